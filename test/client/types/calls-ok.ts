// Uses of the typed SDK (src/client) that must compile: every shape of
// call() — no data, required data, optional fields, call options —, results
// typed field by field, long-running commands as Job handles, events with
// filters, fleet calls and error narrowing. Never run: `tsc -p tsconfig.json`
// (it includes test/**) and test/client/types.test.ts type-check it; its twin
// calls-fail.ts holds what must not compile. No directive, no `any`
// here: everything below stands on its own types.
import {
  COMMANDS,
  VirtbusError,
  connect,
  isCommandName,
  isJobCommand,
  isVirtbusError,
  type Called,
  type CommandData,
  type CommandName,
  type CommandResult,
  type EventStream,
  type FleetNode,
  type FleetOutcome,
  type Job,
  type JobCommand,
  type JobProgress,
  type Virtbus,
  type VirtbusEvent,
} from '../../../src/client';

/** true only when A and B are the same type (not merely assignable one way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** `same<A, B>(true)` compiles only when A and B are the same type. */
const same = <A, B>(_proof: Equal<A, B>): void => undefined;
/** uses a value where its type is the point (keeps the linter's unused-variable rule quiet) */
const use = (..._values: unknown[]): void => undefined;

export async function connecting(): Promise<Virtbus> {
  const a = await connect({ bus: 'amqp://guest:guest@127.0.0.1:5672', node: 'hv1' });
  use(a.node, a.client);
  await a.close();
  await connect({ bus: ['mqtt://a:1883', 'mqtt://b:1883'], mqttVersion: 4, caller: 'orchestrator', timeoutMs: 5000 });
  return connect({
    bus: { urls: ['amqps://broker:5671'], username: 'orchestrator', password: 'secret' },
    tls: { caFile: '/etc/virtbus/ca.pem', servername: 'broker.example' },
    auth: 'plain',
    userId: 'orchestrator',
    source: 'my-orchestrator',
    signingKey: { keyId: 'k1', file: '/etc/virtbus/k1.pem' },
  });
}

export async function commandsWithoutData(v: Virtbus): Promise<void> {
  const info = await v.call('node.info');
  same<typeof info, CommandResult<'node.info'>>(true);
  const cores: number = info.cpu.cores;
  const version: string = info.libvirtVersion;
  const ping = await v.call('agent.ping', {});
  const bootId: string = ping.bootId;
  // every field optional: data may be left out too
  const all = await v.call('domain.list');
  const names: string[] = all.domains.map((d) => d.name);
  const states: string[] = all.domains.map((d) => d.state);
  // no data, but call options: undefined in data's place
  await v.call('agent.status', undefined, { node: 'hv2', timeoutMs: 2000 });
  use(cores, version, bootId, names, states);
}

export async function commandsWithData(v: Virtbus): Promise<void> {
  const d = await v.call('domain.get', { domain: 'web' });
  same<typeof d, CommandResult<'domain.get'>>(true);
  const state: string = d.state;
  const memoryKiB: number = d.memoryKiB;
  const persistent: boolean = d.persistent;
  // optional fields, literal unions, nested unions
  const inactive = await v.call('domain.list', { state: 'inactive' });
  await v.call('domain.shutdown', { domain: 'web', mode: 'acpi' });
  await v.call('domain.start', { domain: 'web', paused: true });
  const disk = await v.call('domain.attachDisk', {
    domain: 'web',
    source: { pool: 'default', volume: 'data.qcow2' },
    target: 'vdb',
    bus: 'virtio',
    format: 'qcow2',
    live: true,
    config: true,
  });
  const target: string = disk.target;
  await v.call('domain.attachDisk', { domain: 'web', source: { path: '/var/lib/images/x.img' }, target: 'vdc' });
  const detached = await v.call('domain.detachDisk', { domain: 'web', target: 'vdb' });
  const pending: boolean = detached.pending;
  // data built ahead of the call, with the contract's type
  const grow: CommandData<'vol.resize'> = { pool: 'default', volume: 'a.qcow2', capacityBytes: 2 ** 30 };
  const vol = await v.call('vol.resize', grow);
  const capacity: number = vol.capacity;
  const format: string | undefined = vol.format;
  const stats = await v.call('domain.stats', { domain: 'web' });
  const cpuTime: number | string | boolean | undefined = stats.stats['cpu.time'];
  use(state, memoryKiB, persistent, inactive, target, pending, capacity, format, cpuTime);
}

export async function callOptions(v: Virtbus): Promise<void> {
  await v.call(
    'domain.suspend',
    { domain: 'web' },
    { node: 'hv2', id: 'cmd-42', deadline: new Date(Date.now() + 60_000).toISOString(), timeoutMs: 10_000 },
  );
  // a retry with the same id is answered from the agent's record
  await v.call('domain.resume', { domain: 'web' }, { id: 'cmd-43' });
}

export async function jobs(v: Virtbus): Promise<void> {
  const job = await v.call('domain.migrate', { domain: 'web', to: 'hv2', live: true, maxDowntimeMs: 300 });
  same<typeof job, Job<CommandResult<'domain.migrate'>, 'domain.migrate'>>(true);
  const id: string = job.id;
  const node: string = job.node;
  for await (const p of job.progress) {
    same<typeof p, JobProgress>(true);
    const s: string = p.state;
    const report: unknown = p.progress;
    use(s, report, p.at);
  }
  const r = await job.result;
  same<typeof r, CommandResult<'domain.migrate'>>(true);
  const downtimeMs: number | null = r.downtimeMs;
  const totalMs: number = r.totalMs;
  await job.cancel();
  // the other long-running commands, each resolving to its own result
  const saved = await (await v.call('domain.save', { domain: 'web', path: '/var/lib/virtbus/save/web' })).result;
  const path: string = saved.path;
  const restored = await (await v.call('domain.restore', { path: '/var/lib/virtbus/save/web', paused: true })).result;
  const restoredState: string = restored.state;
  const snap = await v.call('domain.snapshot.create', { domain: 'web', snapshot: 'before-upgrade' });
  const snapshot: string = (await snap.result).snapshot;
  await v.call('domain.snapshot.revert', { domain: 'web', snapshot: 'before-upgrade', running: true });
  await v.call('domain.snapshot.delete', { domain: 'web', snapshot: 'before-upgrade', children: true });
  const clone = await (await v.call('vol.clone', { pool: 'default', volume: 'base.qcow2', name: 'web.qcow2' })).result;
  const created = await v.call('vol.create', {
    pool: 'default',
    name: 'big.raw',
    capacityBytes: 2 ** 32,
    format: 'raw',
  });
  same<typeof created, Job<CommandResult<'vol.create'>, 'vol.create'>>(true);
  await v.call('vol.create', { pool: 'default', xml: '<volume>…</volume>' });
  // a job started elsewhere, followed by its id: its result is not known statically
  const again = await v.job(id, { node: 'hv1' });
  const unknownResult: unknown = await again.result;
  // the call's type, named
  const later: Called<'domain.save'> = v.call('domain.save', { domain: 'db', path: '/var/lib/virtbus/save/db' });
  const named: Job<CommandResult<'domain.save'>> = await later;
  use(node, downtimeMs, totalMs, path, restoredState, snapshot, clone.key, created.id, unknownResult, named.command);
}

export function commandNames(input: string): void {
  const n: number = Object.keys(COMMANDS).length;
  if (isCommandName(input)) {
    const c: CommandName = input;
    use(c);
  }
  if (isJobCommand(input)) {
    const j: JobCommand = input;
    use(j);
  }
  // exactly the contract's long-running commands
  same<
    JobCommand,
    | 'domain.migrate'
    | 'domain.save'
    | 'domain.restore'
    | 'domain.snapshot.create'
    | 'domain.snapshot.revert'
    | 'domain.snapshot.delete'
    | 'vol.clone'
    | 'vol.create'
  >(true);
  use(n);
}

export async function events(v: Virtbus): Promise<void> {
  const ac = new AbortController();
  const stream = v.events({ node: '*', object: 'domain', event: 'stopped', domain: 'web', signal: ac.signal });
  same<typeof stream, EventStream>(true);
  await stream.ready;
  for await (const e of stream) {
    same<typeof e, VirtbusEvent>(true);
    const type: string = e.type;
    const seq: unknown = e.data.seq;
    if (e.gap) use(e.gap.domain, e.gap.expected, e.gap.got);
    if (e.restarted) use(e.restarted.bootId);
    const dropped: number | undefined = e.dropped;
    use(type, seq, dropped, e.cloudEvent.id, e.subject, e.time);
    ac.abort();
  }
  // the connection's node, every event; ended by return()
  const mine = v.events();
  const first = await mine.next();
  if (!first.done) use(first.value.name);
  await mine.return?.();
  v.events({ object: 'job', maxQueued: 100 });
}

export async function fleet(v: Virtbus): Promise<void> {
  const outcomes = await v.fleetCall('domain.list', {}, { all: true, timeoutMs: 5000 });
  same<typeof outcomes, FleetOutcome<'domain.list'>[]>(true);
  await v.fleetCall('domain.get', { domain: 'web' }, { nodes: ['hv1', 'hv2'] });
  await v.fleetCall('agent.ping', {});
  for (const o of outcomes) {
    if (o.outcome === 'ok') use(o.result, o.ms);
    else if (o.outcome === 'error') use(o.error.code, o.error.message);
    else use(o.node);
  }
  const nodes: FleetNode[] = await v.nodes({ windowMs: 60_000 });
  const online: string[] = nodes.filter((n) => n.status === 'online').map((n) => n.node);
  use(online);
}

export async function errors(v: Virtbus): Promise<void> {
  try {
    await v.call('domain.start', { domain: 'web' });
  } catch (e) {
    if (e instanceof VirtbusError) {
      const code: string = e.code;
      const libvirtName: string | undefined = e.libvirt?.name;
      const local: boolean = e.local;
      const command: string = e.command;
      const id: string | undefined = e.id;
      use(code, libvirtName, local, command, id, e.message, e.details);
    }
    if (isVirtbusError(e, 'NOT_FOUND')) use(e.code);
  }
  const job = await v.call('vol.clone', { pool: 'default', volume: 'a', name: 'b' });
  const failed = await job.result.catch((e: unknown) => (e instanceof VirtbusError ? e : undefined));
  if (failed instanceof VirtbusError) use(failed.code);
}

export async function untyped(v: Virtbus): Promise<void> {
  // the untyped client underneath: raw replies, any command name and data
  const reply = await v.client.call('domain.get', { domain: 'web' }, { node: 'hv1' });
  if (reply.ok) use(reply.result);
  else use(reply.error.code);
}

/** What the contract's literal unions, typed results and job commands give (once open points, now kept). */
export async function precise(v: Virtbus): Promise<void> {
  type DomainStateWord =
    'nostate' | 'running' | 'blocked' | 'paused' | 'shutdown' | 'shutoff' | 'crashed' | 'pmsuspended';
  const d = await v.call('domain.get', { domain: 'web' });
  const word: DomainStateWord = d.state;
  const [first] = await v.fleetCall('domain.list', {}, { all: true });
  if (first.outcome === 'ok') {
    const list: CommandResult<'domain.list'> = first.result;
    void list;
  }
  await v.fleetCall('node.info');
  const job = await v.call('domain.save', { domain: 'web', path: '/var/lib/virtbus/save/web' });
  const command: 'domain.save' = job.command;
  void word;
  void command;
}
