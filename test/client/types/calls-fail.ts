// Uses of the typed SDK (src/client) that must NOT compile. Each is one line
// under a `// @ts-expect-error` saying why: tsc fails on a directive whose
// line compiles (the SDK got too loose), and test/client/types.test.ts also
// checks the other way round — with the directives taken out every such line
// has an error of its own (none of them passes only by accident). Never run;
// calls-ok.ts holds what must compile.
import { VirtbusError, connect, isVirtbusError, type CommandData, type Virtbus } from '../../../src/client';

export async function commands(v: Virtbus): Promise<void> {
  // @ts-expect-error unknown command: not in the contract
  await v.call('domain.explode', { domain: 'web' });
  // @ts-expect-error command names are case-sensitive
  await v.call('domain.Get', { domain: 'web' });
  // @ts-expect-error a command name must be a literal of the contract, not any string
  await v.call(String('domain.get'), { domain: 'web' });
}

export async function data(v: Virtbus): Promise<void> {
  // @ts-expect-error domain.get needs data: its domain is required
  await v.call('domain.get');
  // @ts-expect-error missing required field: domain
  await v.call('domain.get', {});
  // @ts-expect-error wrong field type: domain is a name or UUID string
  await v.call('domain.get', { domain: 42 });
  // @ts-expect-error extra field: the schema forbids additional properties
  await v.call('domain.get', { domain: 'web', force: true });
  // @ts-expect-error domain.list's state is active, inactive or all
  await v.call('domain.list', { state: 'running' });
  // @ts-expect-error onTimeout is abort or postcopy
  await v.call('domain.migrate', { domain: 'web', to: 'hv2', onTimeout: 'wait' });
  // @ts-expect-error a volume's format is raw or qcow2
  await v.call('vol.create', { pool: 'default', name: 'a.vmdk', capacityBytes: 1024, format: 'vmdk' });
  // @ts-expect-error migrate's destination is an object with uri (and migrateUri), not a string
  await v.call('domain.migrate', { domain: 'web', destination: 'qemu+tls://hv2/system' });
  // @ts-expect-error a disk's source is a path or a pool volume, not a URL
  await v.call('domain.attachDisk', { domain: 'web', source: { url: 'http://x' }, target: 'vdb' });
  // @ts-expect-error capacityBytes is a number of bytes, not a size string
  await v.call('vol.resize', { pool: 'default', volume: 'a', capacityBytes: '10G' });
  // @ts-expect-error vol.create needs capacityBytes (or xml instead of name)
  await v.call('vol.create', { pool: 'default', name: 'a.raw' });
  // @ts-expect-error domain.restore takes a path, not a domain
  await v.call('domain.restore', { domain: 'web' });
  // @ts-expect-error the data of one command is not the data of another
  const start: CommandData<'domain.start'> = { pool: 'default' };
  await v.call('domain.start', start);
}

export async function options(v: Virtbus): Promise<void> {
  // @ts-expect-error unknown call option (it is timeoutMs)
  await v.call('domain.get', { domain: 'web' }, { timeout: 5 });
  // @ts-expect-error timeoutMs is a number of milliseconds
  await v.call('domain.get', { domain: 'web' }, { timeoutMs: '5s' });
  // @ts-expect-error call takes the command, its data and options: nothing more
  await v.call('node.info', {}, {}, {});
  // @ts-expect-error connect needs bus
  await connect({ url: 'amqp://127.0.0.1' });
  // @ts-expect-error MQTT protocol is 4 (3.1.1) or 5
  await connect({ bus: 'mqtt://127.0.0.1', mqttVersion: 3 });
}

export async function results(v: Virtbus): Promise<void> {
  const d = await v.call('domain.get', { domain: 'web' });
  // @ts-expect-error no such result field (it is state)
  void d.status;
  // @ts-expect-error state is a string, not a number
  const n: number = d.state;
  // @ts-expect-error an ordinary command resolves to its result, not a Job
  void d.progress;
  const info = await v.call('node.info');
  // @ts-expect-error node.info has memoryKiB, not memory
  void info.memory;
  void n;
}

export async function jobs(v: Virtbus): Promise<void> {
  const job = await v.call('domain.migrate', { domain: 'web', to: 'hv2' });
  // @ts-expect-error a job command resolves to a Job: the result is behind `await job.result`
  void job.downtimeMs;
  // @ts-expect-error result is a Promise: await it first
  void job.result.downtimeMs;
  // @ts-expect-error the awaited result has domain.migrate's fields: totalMs is a number
  const total: string = (await job.result).totalMs;
  // @ts-expect-error domain.migrate's result has no path (that is domain.save's)
  void (await job.result).path;
  // @ts-expect-error cancel() takes no data: the job is known by its handle
  await job.cancel({ id: job.id });
  // @ts-expect-error progress is to be iterated, not called
  await job.progress();
  // @ts-expect-error a handle's id is read-only
  job.id = 'other';
  for await (const p of job.progress) {
    // @ts-expect-error a progress report's details are unknown until checked
    void p.progress.phase;
  }
  const attached = await v.job(job.id);
  // @ts-expect-error a job followed by id has an unknown result: check it before use
  void (await attached.result).name;
  // @ts-expect-error job() takes the command id, not the handle
  await v.job(job);
  void total;
}

export async function events(v: Virtbus): Promise<void> {
  // @ts-expect-error unknown filter (it is object or event)
  v.events({ type: 'virtbus.event.domain.lifecycle' });
  // @ts-expect-error signal is an AbortSignal, not a timeout
  v.events({ signal: 5000 });
  const stream = v.events({ object: 'domain' });
  // @ts-expect-error ready is a promise to await, not a flag
  const ready: boolean = stream.ready;
  for await (const e of stream) {
    // @ts-expect-error event data is unknown per field: check it before use
    const seq: number = e.data.seq;
    // @ts-expect-error no such event field (it is type or name)
    void e.kind;
    void seq;
  }
  void ready;
}

export async function fleet(v: Virtbus): Promise<void> {
  // @ts-expect-error a fleet call's data is the command's data: domain.get needs domain
  await v.fleetCall('domain.get', { name: 'web' }, { all: true });
  // @ts-expect-error unknown command in a fleet call
  await v.fleetCall('domain.explode', {}, { all: true });
  // @ts-expect-error all is a boolean
  await v.fleetCall('domain.list', {}, { all: 'yes' });
  // @ts-expect-error nodes is a list of node ids
  await v.fleetCall('domain.list', {}, { nodes: 'hv1,hv2' });
  const [first] = await v.fleetCall('domain.list', {}, { all: true });
  // @ts-expect-error an outcome has a result only when it is ok: narrow on outcome first
  void first.result;
  const nodes = await v.nodes();
  // @ts-expect-error a node's status is online, offline or lost
  const up: boolean = nodes[0].status === 'up';
  void up;
}

export async function errors(v: Virtbus): Promise<void> {
  try {
    await v.call('domain.start', { domain: 'web' });
  } catch (e) {
    // @ts-expect-error a caught value is unknown: narrow it (instanceof VirtbusError) first
    void e.code;
    if (e instanceof VirtbusError) {
      // @ts-expect-error the libvirt block is there only when libvirt raised the error
      void e.libvirt.name;
      // @ts-expect-error code is read-only
      e.code = 'OTHER';
    }
  }
}

/** Refused by the types as the agent would refuse them (once open points, now kept). */
export async function refusedLikeTheAgent(v: Virtbus, e: unknown): Promise<void> {
  // @ts-expect-error a command without data takes no fields
  await v.call('node.info', { verbose: true });
  // @ts-expect-error nor a string
  await v.call('agent.ping', 'now');
  // @ts-expect-error shutdown modes are default, acpi or agent
  await v.call('domain.shutdown', { domain: 'web', mode: 'hard' });
  // @ts-expect-error no floppy bus
  await v.call('domain.attachDisk', { domain: 'web', source: { path: '/x.img' }, target: 'vdb', bus: 'floppy' });
  // @ts-expect-error a misspelt error code can never match
  if (e instanceof VirtbusError && e.code === 'NOT_FUOND') return;
  // @ts-expect-error nor in isVirtbusError
  if (isVirtbusError(e, 'NOT_FUOND')) return;
  // @ts-expect-error a misspelt object filters everything out
  v.events({ object: 'domian' });
}
