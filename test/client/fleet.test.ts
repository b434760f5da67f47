/**
 * Fleet calls and the fleet's list (issue 13, items 1 and 6) with real agent
 * processes on the test driver.
 *
 * AMQP runs on a private RabbitMQ node (never the system one), so that every
 * message published during start-up is ours to count: a queue bound to
 * virtbus.events with '#' and one bound to virtbus.broadcast see all of
 * them (the presence log is fed by the exchange's binding: no publish of its own). 10 agents, then 40 more (50 in all): the start-up
 * count per agent is the same for both — it grows linearly with N (no
 * fleet-wide broadcast at start, as the agent.ping start-up broadcast did:
 * N² replies) — and stays ≤ 5 per agent. Then a broadcast domain.list is
 * answered by all 50, the fleet list shows them online, and one agent
 * stopped with SIGSTOP (its presence still says online) is reported as "no
 * reply" while the others answer.
 *
 * MQTT runs on the system Mosquitto with three agents: the list comes from
 * the retained statuses; a SIGSTOPped agent is "no reply"; one that is
 * killed is offline at once (its Last Will) and is not expected any more.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { AgentRun } from '../helpers/agent-process';
import { cleanupAfterEach } from '../helpers/cleanup';
import { PrivateBroker, downAll } from '../helpers/private-brokers';
import { MOSQUITTO_V5, forgetAgent } from '../helpers/mqtt';
import { connectClient, type VirtbusClient } from '../../src/client/client';
import { fleet, type NodeOutcome } from '../../src/client/fleet';
import { waitForAsync } from '../helpers/fault-lab';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const CLI = join(__dirname, '..', '..', 'dist', 'agent', 'virtbus.js');
/** The virtbus CLI; resolves with its exit code and output (a non-zero exit is not an error here). */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: x.code ?? -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

jest.setTimeout(300_000);

const defer = cleanupAfterEach();
let rabbit: PrivateBroker;
const measured: string[] = [];

beforeAll(async () => {
  rabbit = await PrivateBroker.up('rabbitmq', 'fleet');
});

afterAll(async () => {
  await downAll();
  if (measured.length) console.log(`fleet measurements:\n  ${measured.join('\n  ')}`);
});

const tag = `${process.pid}-${Date.now().toString(36)}`;

/** Starts n agents at once and waits until all are ready; all are killed after the test. */
async function agents(bus: string, names: string[], extra: string[] = []): Promise<Map<string, AgentRun>> {
  const dir = mkdtempSync(join(tmpdir(), 'virtbus-fleet-'));
  defer('state dir', () => rmSync(dir, { recursive: true, force: true }));
  const runs = new Map<string, AgentRun>();
  for (const node of names) {
    const run = AgentRun.launch([
      ...['--node-id', node, '--bus', bus, '--libvirt-uri', 'test:///default', '--state-dir', join(dir, node)],
      ...['--log-level', 'warn', '--heartbeat', '600', '--drain', '2', ...extra],
    ]);
    runs.set(node, run);
    defer(`agent ${node}`, async () => {
      try {
        process.kill(run.pid, 'SIGCONT');
      } catch {
        /* gone */
      }
      await run.kill();
    });
  }
  // --log-level warn: no 'ready' line; an agent is up when its online is seen (callers wait for that)
  return runs;
}

/** Counts what is published on the events and broadcast exchanges from now on. */
async function counter(url: string) {
  const conn = await amqp.connect(url);
  defer('counter connection', () => conn.close().catch(() => undefined));
  const ch = await conn.createChannel();
  await ch.assertExchange('virtbus.events', 'topic', { durable: true });
  await ch.assertExchange('virtbus.broadcast', 'fanout', { durable: true });
  const { queue: ev } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(ev, 'virtbus.events', '#');
  const { queue: bc } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(bc, 'virtbus.broadcast', '');
  const c = { events: 0, online: new Set<string>(), broadcasts: 0 };
  await ch.consume(
    ev,
    (m) => {
      if (!m) return;
      c.events++;
      const e = JSON.parse(m.content.toString());
      if (e.type === 'virtbus.event.agent.online') c.online.add(e.data.node);
    },
    { noAck: true },
  );
  await ch.consume(bc, () => c.broadcasts++, { noAck: true });
  return {
    c,
    /** events + broadcasts */
    total: () => c.events + c.broadcasts,
  };
}

async function client(bus: string, protocolVersion?: 4 | 5): Promise<VirtbusClient> {
  const cl = await connectClient({ endpoint: bus, node: 'none', ...(protocolVersion && { protocolVersion }) });
  defer('client', () => cl.close());
  return cl;
}

const byNode = (r: NodeOutcome[]) => new Map(r.map((o) => [o.node, o]));

test('AMQP: start-up messages grow linearly (10 and 50 agents), a broadcast reaches all, a stopped agent is "no reply"', async () => {
  const count = await counter(rabbit.url);
  const startUp = async (names: string[]) => {
    const before = count.total();
    const t0 = Date.now();
    const runs = await agents(rabbit.url, names);
    await waitForAsync(
      async () => names.every((n) => count.c.online.has(n)) || undefined,
      `all ${names.length} agents online (${names.filter((n) => !count.c.online.has(n)).join(' ')} not yet)`,
      120_000,
    );
    const allOnlineMs = Date.now() - t0;
    await new Promise((r) => setTimeout(r, 1500)); // whatever start-up still sends
    return { runs, messages: count.total() - before, allOnlineMs };
  };
  const first = await startUp(Array.from({ length: 10 }, (_, i) => `fa${i}-${tag}`));
  const second = await startUp(Array.from({ length: 40 }, (_, i) => `fb${i}-${tag}`));
  const per10 = first.messages / 10;
  const per40 = second.messages / 40;
  measured.push(
    `start-up: 10 agents ${first.messages} messages (${per10}/agent, all online in ${first.allOnlineMs} ms); ` +
      `40 more ${second.messages} (${per40}/agent, ${second.allOnlineMs} ms)`,
  );
  expect(per10).toBeLessThanOrEqual(5);
  expect(per40).toBeLessThanOrEqual(5);
  expect(Math.abs(per40 - per10)).toBeLessThanOrEqual(0.5); // linear: the same per agent at 10 and at 50
  expect(count.c.broadcasts).toBe(0); // nothing fleet-wide at start

  const runs = new Map([...first.runs, ...second.runs]);
  const names = [...runs.keys()];
  const cl = await client(rabbit.url);
  const f = fleet(cl);

  const tList = Date.now();
  const list = await f.nodes();
  const listMs = Date.now() - tList;
  const ours = list.filter((n) => runs.has(n.node));
  expect(ours.map((n) => n.node).sort()).toEqual([...names].sort());
  expect(new Set(ours.map((n) => n.status))).toEqual(new Set(['online']));
  expect(ours.every((n) => typeof n.bootId === 'string' && n.libvirtUri === 'test:///default')).toBe(true);

  const t0 = Date.now();
  const all = await f.call('domain.list', {}, { all: true, timeoutMs: 10_000 });
  const tookMs = Date.now() - t0;
  const got = byNode(all);
  expect(names.filter((n) => got.get(n)?.outcome !== 'ok')).toEqual([]);
  const r0 = got.get(names[0]) as Extract<NodeOutcome, { outcome: 'ok' }>;
  expect((r0.result as { domains: Array<{ name: string }> }).domains.map((d) => d.name)).toContain('test');
  const slowest = Math.max(...all.map((o) => ('ms' in o ? o.ms : 0)));
  measured.push(
    `fleet list of 50 from the presence log ${listMs} ms; broadcast domain.list to 50: all answered in ${tookMs} ms ` +
      `(presence read included; slowest reply ${slowest} ms after the broadcast)`,
  );

  // one agent stopped (SIGSTOP: its presence still says online): no reply; the others answer
  const stopped = names[3];
  process.kill(runs.get(stopped)!.pid, 'SIGSTOP');
  const again = byNode(await f.call('domain.list', {}, { all: true, timeoutMs: 3000 }));
  expect(again.get(stopped)).toEqual({ node: stopped, outcome: 'no-reply' });
  expect(names.filter((n) => n !== stopped && again.get(n)?.outcome !== 'ok')).toEqual([]);

  // targeted: two nodes, one stopped, one unknown to anybody
  const some = byNode(await f.call('agent.ping', {}, { nodes: [names[0], stopped, `nobody-${tag}`], timeoutMs: 2000 }));
  expect(some.get(names[0])?.outcome).toBe('ok');
  expect(some.get(stopped)?.outcome).toBe('no-reply');
  expect(some.get(`nobody-${tag}`)?.outcome).toBe('no-reply');

  // the CLI: --all prints one table with a node column (exit 1: one node did not answer), nodes lists the fleet
  const table = await cli('--bus', rabbit.url, '--all', '--timeout', '3', 'domain.list');
  const lines = table.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^NODE\s+.*NAME/);
  for (const n of names) expect(lines.some((l) => l.startsWith(`${n} `))).toBe(true);
  expect(lines.find((l) => l.startsWith(`${stopped} `))).toMatch(/no reply/);
  expect(table.code).toBe(1);
  const listed = await cli('--bus', rabbit.url, '--json', 'nodes');
  expect(listed.code).toBe(0);
  const fromCli = (JSON.parse(listed.stdout) as Array<{ node: string; status: string }>).filter((n) =>
    runs.has(n.node),
  );
  expect(fromCli).toHaveLength(50);
  const people = await cli('--bus', rabbit.url, 'nodes');
  expect(people.stdout.split('\n')[0]).toMatch(/^NODE\s+STATUS\s+VERSION\s+LIBVIRT\s+TRANSPORT\s+LAST SEEN/);
  process.kill(runs.get(stopped)!.pid, 'SIGCONT');
});

test('MQTT: the fleet from retained statuses; a stopped agent is "no reply", a killed one offline and not expected', async () => {
  const url = await MOSQUITTO_V5.setup();
  const names = Array.from({ length: 3 }, (_, i) => `fm${i}-${tag}`);
  defer('sessions and retained statuses', async () => {
    for (const n of names) await forgetAgent(url, 5, n);
  });
  const runs = await agents(url, names, ['--mqtt-version', '5']);
  const cl = await client(url);
  const f = fleet(cl);
  const ours = async () => (await f.nodes()).filter((n) => runs.has(n.node));
  await waitForAsync(
    async () => ((await ours()).filter((n) => n.status === 'online').length === 3 ? true : undefined),
    'three agents online in the retained statuses',
    60_000,
  );

  const all = byNode(await f.call('node.info', {}, { all: true, timeoutMs: 10_000 }));
  expect(names.map((n) => all.get(n)?.outcome)).toEqual(['ok', 'ok', 'ok']);

  process.kill(runs.get(names[1])!.pid, 'SIGSTOP');
  await runs.get(names[2])!.kill(); // its Last Will marks it offline
  await waitForAsync(
    async () => ((await ours()).find((n) => n.node === names[2])?.status === 'offline' ? true : undefined),
    `${names[2]} offline by its Last Will`,
    30_000,
  );
  const after = byNode(await f.call('node.info', {}, { all: true, timeoutMs: 3000 }));
  expect(after.get(names[0])?.outcome).toBe('ok');
  expect(after.get(names[1])).toEqual({ node: names[1], outcome: 'no-reply' });
  expect(after.has(names[2])).toBe(false);
  process.kill(runs.get(names[1])!.pid, 'SIGCONT');
});
