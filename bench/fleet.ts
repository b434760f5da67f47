// The fleet bench (issue 13, item 7): N real agents (default 200), each on
// the test driver with 50 domains, on a private RabbitMQ node started by
// scripts/private-broker.sh (never the system one), then the same against a
// private 3-node cluster with the queue leaders' node killed.
//
//   node dist/bench/fleet.js [--agents N] [--domains D] [--cluster-agents N] [--no-cluster] [--no-single] [--json]
//
// Prints, each next to its same-run baseline where one exists: time until all
// are online; broker messages during start-up (counted by a queue bound to
// every event and broadcast); RSS per agent (bare node process alongside);
// broker cost per agent (connections, channels, queues, file handles, memory,
// Erlang processes: the broker's figures before and after, divided by N);
// broadcast domain.list until all N answered, p50/p99; targeted domain.get
// p50/p99 (one node at a time); recovery after a broker restart (port open →
// every agent's online again) and how the reconnections spread (the most in
// any 100 ms); the same on the cluster with its first node killed.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import amqp, { type Channel } from 'amqplib';
import { AGENT_MAIN } from './lib/agent-process';
import { Cleanup, runAllCleanups, withCleanup } from './lib/cleanup';
import { rssMiB, sleep, startChild, type Child } from './lib/proc';
import { measured, renderTable, skipped, type Row } from './lib/report';
import { median, summarize } from './lib/stats';
import { domainNames, writeTestNode } from './lib/test-node-xml';
import { tempDir } from './lib/tmp';
import { accepts, freePort } from './lib/mosquitto';
import { connectClient, type VirtbusClient } from '../src/client/client';
import { fleetCall, listNodes } from '../src/client/fleet';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'private-broker.sh');
const run = promisify(execFile);
const script = async (...args: string[]) => (await run('bash', [SCRIPT, ...args], { maxBuffer: 1 << 24 })).stdout;

interface Broker {
  urls: string[];
  /** rabbitmqctl on node i */
  ctl(i: number, ...args: string[]): Promise<string>;
  stop(i: number): Promise<void>;
  kill(i: number): Promise<void>;
  start(i: number): Promise<void>;
  port(i: number): number;
}

async function singleBroker(cleanup: Cleanup): Promise<Broker> {
  const [port, dist] = [await freePort(), await freePort()];
  cleanup.add('private broker down', () => script('rabbitmq', 'down', 'bench-fleet'));
  await script('rabbitmq', 'up', 'bench-fleet', String(port), String(dist));
  return {
    urls: [`amqp://virtbus:virtbus@127.0.0.1:${port}`],
    ctl: (_i, ...a) => script('rabbitmq', 'ctl', 'bench-fleet', ...a),
    stop: async () => void (await script('rabbitmq', 'stop', 'bench-fleet')),
    kill: async () => void (await script('rabbitmq', 'kill', 'bench-fleet')),
    start: async () => void (await script('rabbitmq', 'start', 'bench-fleet')),
    port: () => port,
  };
}

async function clusterBroker(cleanup: Cleanup, n: number): Promise<Broker> {
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) pairs.push([await freePort(), await freePort()]);
  cleanup.add('private cluster down', () => script('rabbitmq', 'cluster-down', 'benchc'));
  await script('rabbitmq', 'cluster-up', 'benchc', ...pairs.map(([p, d]) => `${p}:${d}`));
  const name = (i: number) => `benchc${i + 1}`;
  return {
    urls: pairs.map(([p]) => `amqp://virtbus:virtbus@127.0.0.1:${p}`),
    ctl: (i, ...a) => script('rabbitmq', 'ctl', name(i), ...a),
    stop: async (i) => void (await script('rabbitmq', 'stop', name(i))),
    kill: async (i) => void (await script('rabbitmq', 'kill', name(i))),
    start: async (i) => void (await script('rabbitmq', 'start', name(i))),
    port: (i) => pairs[i][0],
  };
}

/** The broker's own figures: connections, channels, queues, file handles, memory, Erlang processes. */
async function brokerCost(b: Broker) {
  const lines = async (...a: string[]) =>
    (await b.ctl(0, ...a))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !/^(Listing|Timeout|name|pid)/.test(l));
  const status = await b.ctl(0, 'status', '--formatter', 'json');
  const j = JSON.parse(status.slice(status.indexOf('{'))) as {
    file_descriptors?: { total_used?: number };
    memory?: { total?: { erlang?: number } | number };
    processes?: { used?: number };
  };
  const mem = j.memory?.total;
  return {
    connections: (await lines('list_connections', 'pid')).length,
    channels: (await lines('list_channels', 'pid')).length,
    queues: (await lines('list_queues', 'name')).length,
    fileHandles: j.file_descriptors?.total_used ?? NaN,
    memoryMiB: (typeof mem === 'number' ? mem : (mem?.erlang ?? NaN)) / 1048576,
    erlangProcesses: j.processes?.used ?? NaN,
  };
}

/** the broker's figures printed per agent: brokerCost key, row id, label, unit */
const COST_ROWS: Array<[keyof Awaited<ReturnType<typeof brokerCost>>, string, string, string]> = [
  ['connections', 'connections', 'connections', ''],
  ['channels', 'channels', 'channels', ''],
  ['queues', 'queues', 'queues', ''],
  ['fileHandles', 'fds', 'file handles', ''],
  ['memoryMiB', 'memory', 'memory', 'MiB'],
  ['erlangProcesses', 'procs', 'Erlang processes', ''],
];

interface Seen {
  online: Map<string, number[]>;
  messages: number;
  broadcasts: number;
}

/** A durable queue bound to every event and one to the broadcast exchange: survives a broker restart. */
async function countEverything(
  urls: string[],
  cleanup: Cleanup,
): Promise<{ seen: Seen; reconnect: () => Promise<void> }> {
  const seen: Seen = { online: new Map(), messages: 0, broadcasts: 0 };
  const q = 'bench.fleet.count';
  const qb = 'bench.fleet.count.broadcast';
  let conn: amqp.ChannelModel | undefined;
  const attach = async () => {
    for (let i = 0; ; i++) {
      try {
        conn = await amqp.connect(urls[i % urls.length]);
        break;
      } catch {
        await sleep(100);
      }
    }
    conn.on('error', () => undefined);
    const ch: Channel = await conn.createChannel();
    await ch.assertExchange('virtbus.events', 'topic', { durable: true });
    await ch.assertExchange('virtbus.broadcast', 'fanout', { durable: true });
    const args = { durable: true, arguments: { 'x-queue-type': 'quorum' } };
    await ch.assertQueue(q, args);
    await ch.bindQueue(q, 'virtbus.events', '#');
    await ch.assertQueue(qb, args);
    await ch.bindQueue(qb, 'virtbus.broadcast', '');
    await ch.prefetch(1000);
    await ch.consume(q, (m) => {
      if (!m) return;
      ch.ack(m);
      seen.messages++;
      const e = JSON.parse(m.content.toString()) as { type: string; data: { node: string; at?: string } };
      if (e.type === 'virtbus.event.agent.online') {
        const t = seen.online.get(e.data.node) ?? [];
        // when the agent said it (same machine, same clock), not when this counter got it: the
        // counter reconnects too, and what its queue kept meanwhile arrives in one burst
        t.push(Date.parse(e.data.at ?? '') || Date.now());
        seen.online.set(e.data.node, t);
      }
    });
    await ch.consume(qb, (m) => {
      if (!m) return;
      ch.ack(m);
      seen.broadcasts++;
    });
  };
  await attach();
  cleanup.add('counter connection', () => conn?.close().catch(() => undefined));
  return {
    seen,
    reconnect: async () => {
      await conn?.close().catch(() => undefined);
      await attach();
    },
  };
}

async function waitUntil(what: string, pred: () => boolean, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(20);
  }
  return Date.now() - t0;
}

function startAgents(n: number, bus: string, uri: string, cleanup: Cleanup, label: string): Map<string, Child> {
  const agents = new Map<string, Child>();
  const dir = tempDir(`fleet-${label}`, cleanup);
  for (let i = 0; i < n; i++) {
    const node = `${label}-${i}`;
    const child = startChild(
      `agent ${node}`,
      process.execPath,
      [
        AGENT_MAIN,
        ...['--node-id', node, '--bus', bus, '--libvirt-uri', uri, '--state-dir', join(dir, node)],
        ...['--log-level', 'warn', '--heartbeat', '30', '--drain', '3'],
      ],
      cleanup,
    );
    agents.set(node, child);
  }
  return agents;
}

async function broadcastToAll(cl: VirtbusClient, expected: Set<string>, reps: number): Promise<number[]> {
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const got = new Set<string>();
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    const stop = await cl.broadcast('domain.list', {}, (e) => {
      const node = /^virtbus:\/\/(.+)$/.exec(String(e.source))?.[1];
      if (node && expected.has(node)) got.add(node);
      if (got.size === expected.size) done();
    });
    await Promise.race([all, sleep(15_000)]);
    stop();
    times.push(got.size === expected.size ? performance.now() - t0 : NaN);
  }
  return times;
}

/** The most reconnections (online events after t) in any 100 ms window. */
function burst(ts: number[]): number {
  const s = [...ts].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < s.length; i++) {
    while (s[i] - s[j] > 100) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

async function scenario(
  o: { agents: number; domains: number; cluster: boolean; log: (m: string) => void },
  problems: string[],
): Promise<{ rows: Row[]; details: Record<string, unknown> }> {
  return withCleanup(problems, async (cleanup) => {
    const tag = o.cluster ? 'cluster' : 'single';
    const n = o.agents;
    const b = o.cluster ? await clusterBroker(cleanup, 3) : await singleBroker(cleanup);
    o.log(`${tag}: broker up (${b.urls.length} node${b.urls.length > 1 ? 's' : ''}); starting ${n} agents`);
    const uri = writeTestNode(tempDir('fleet-node', cleanup), domainNames(o.domains, 'g'));
    const count = await countEverything(b.urls, cleanup);
    const before = await brokerCost(b); // the counter's connection and queues are not the agents'
    const bus = b.urls.join(',');
    const launchedAt = Date.now();
    const agents = startAgents(n, bus, uri, cleanup, `fl${tag[0]}${process.pid}`);
    const names = [...agents.keys()];
    const spawnMs = Date.now() - launchedAt;
    const allOnlineMs =
      spawnMs + (await waitUntil(`${n} agents online`, () => names.every((x) => count.seen.online.has(x)), 600_000));
    o.log(`${tag}: all ${n} online after ${allOnlineMs} ms`);
    await sleep(3000);
    const startMessages = count.seen.messages + count.seen.broadcasts;
    const rss = names.map((x) => rssMiB(agents.get(x)!.pid));
    const bare = startChild(
      'bare node',
      process.execPath,
      ['-e', "console.log('ready');setInterval(()=>{},1000)"],
      cleanup,
    );
    await bare.waitForLine((l) => l === 'ready', 10_000);
    await sleep(1000);
    const bareRss = rssMiB(bare.pid);
    const after = await brokerCost(b);
    const per = (k: keyof typeof before) => (after[k] - before[k]) / n;

    const cl = await connectClient({ endpoint: bus, node: names[0] });
    cleanup.add('client', () => cl.close());
    const fleetList = await listNodes(cl);
    const expected = new Set(names);
    const listed = fleetList.filter((x) => expected.has(x.node) && x.status === 'online').length;
    const bc = summarize(await broadcastToAll(cl, expected, 20));
    const targeted: number[] = [];
    for (let i = 0; i < 200; i++) {
      const node = names[i % names.length];
      const t = performance.now();
      const r = await cl.call('domain.get', { domain: 'g0' }, { node, timeoutMs: 10_000 });
      if (!r.ok) throw new Error(`domain.get on ${node}: ${r.error.code} ${r.error.message}`);
      targeted.push(performance.now() - t);
    }
    const tg = summarize(targeted);
    const viaFleet = await fleetCall(cl, 'agent.ping', {}, { all: true, timeoutMs: 10_000 });
    const pingOk = viaFleet.filter((x) => x.outcome === 'ok' && expected.has(x.node)).length;
    await cl.close();

    // Recovery: single broker restarted; cluster: its first node killed (most agents' connections
    // and the queue leaders it holds), then started again.
    // (list_connections lists the whole cluster's: node 1's came in on its port)
    const conns = JSON.parse(
      (await b.ctl(0, 'list_connections', 'client_properties', 'port', '--formatter', 'json')) || '[]',
    ) as Array<{ client_properties: Array<[string, string, unknown]>; port: number }>;
    const onNode1 = new Set(
      conns
        .filter((r) => r.port === b.port(0))
        .map((r) => r.client_properties.find(([k]) => k === 'connection_name')?.[2])
        .filter((x): x is string => typeof x === 'string'),
    );
    o.log(`${tag}: ${o.cluster ? `killing cluster node 1 (${onNode1.size} connections)` : 'restarting the broker'}`);
    const onlineBefore = new Map(names.map((x) => [x, count.seen.online.get(x)!.length]));
    // who must come back: every agent after a restart; on the cluster those connected to node 1
    // (the others keep their connections: agents start their rounds at different nodes)
    const affected = o.cluster ? names.filter((x) => onNode1.has(`virtbus-agent-${x}`)) : names;
    let upAt: number;
    if (o.cluster) {
      await b.kill(0);
      upAt = Date.now(); // the other two nodes are up all along
      await count.reconnect(); // it was on node 1 too; its quorum queue kept what came meanwhile
    } else {
      await b.stop(0);
      const started = b.start(0);
      while (!(await accepts(b.port(0)))) await sleep(10);
      upAt = Date.now();
      await started;
      await count.reconnect();
    }
    const back = () => affected.filter((x) => (count.seen.online.get(x)?.length ?? 0) > onlineBefore.get(x)!);
    await waitUntil(`all ${affected.length} agents online again`, () => back().length === affected.length, 120_000);
    const recoveredAt = affected.map((x) => count.seen.online.get(x)!.at(-1)!);
    const recovery = Math.max(...recoveredAt) - upAt;
    const burstMax = burst(recoveredAt);
    if (o.cluster) await b.start(0);

    const details = {
      n,
      domains: o.domains,
      before,
      after,
      rss: summarize(rss),
      bareRss,
      startMessages,
      listed,
      pingOk,
    };
    const pre = `fleet.${tag}`;
    const what = o.cluster ? `3-node cluster, ${n} agents` : `${n} agents`;
    const rows: Row[] = [
      measured(`${pre}.online`, `${what}: all online after launch`, 's', allOnlineMs / 1000, undefined, undefined, {
        of: 'agent',
        op: '<=',
        value: 30,
      }),
      measured(
        `${pre}.startmsgs`,
        `${what}: broker messages during start-up, per agent`,
        'msgs',
        startMessages / n,
        5,
        '5 per agent (target)',
        {
          of: 'agent',
          op: '<=',
          value: 5,
        },
      ),
      measured(`${pre}.rss`, `${what}: RSS per agent (median)`, 'MiB', median(rss), bareRss, 'bare node process', {
        of: 'agent',
        op: '<=',
        value: 60,
      }),
      ...COST_ROWS.map(([key, id, label, unit]) =>
        measured(`${pre}.cost.${id}`, `${what}: broker ${label} per agent`, unit, per(key), undefined, undefined),
      ),
      measured(
        `${pre}.broadcast.p50`,
        `${what}: broadcast domain.list, all answered, p50`,
        'ms',
        bc.p50,
        tg.p50,
        'targeted domain.get p50',
        undefined,
      ),
      measured(
        `${pre}.broadcast.p99`,
        `${what}: broadcast domain.list, all answered, p99`,
        'ms',
        bc.p99,
        undefined,
        undefined,
        {
          of: 'agent',
          op: '<=',
          value: 1000,
        },
      ),
      measured(`${pre}.targeted.p50`, `${what}: targeted domain.get p50`, 'ms', tg.p50, undefined, undefined),
      measured(`${pre}.targeted.p99`, `${what}: targeted domain.get p99`, 'ms', tg.p99, undefined, undefined),
      measured(
        `${pre}.recovery`,
        o.cluster
          ? `${what}: node 1 killed → every agent online again`
          : `${what}: broker restart → every agent online again`,
        's',
        recovery / 1000,
        undefined,
        undefined,
        { of: 'agent', op: '<=', value: 5 },
      ),
      measured(
        `${pre}.burst`,
        `${what}: most reconnections in any 100 ms`,
        '',
        burstMax,
        affected.length,
        'agents that reconnected',
        {
          of: 'ratio',
          op: '<=',
          value: 0.25,
        },
      ),
    ];
    if (listed !== n) problems.push(`${tag}: the fleet list showed ${listed} of ${n} agents online`);
    if (pingOk !== n) problems.push(`${tag}: fleet agent.ping: ${pingOk} of ${n} ok`);
    return { rows, details };
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      agents: { type: 'string', default: '200' },
      domains: { type: 'string', default: '50' },
      'cluster-agents': { type: 'string', default: '50' },
      'no-cluster': { type: 'boolean', default: false },
      'no-single': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const started = Date.now();
  const log = (m: string) => process.stderr.write(`[fleet ${((Date.now() - started) / 1000).toFixed(0)}s] ${m}\n`);
  const problems: string[] = [];
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  const domains = Number(values.domains);
  const plan: Array<{ agents: number; cluster: boolean }> = [];
  if (!values['no-single']) plan.push({ agents: Number(values.agents), cluster: false });
  if (!values['no-cluster']) plan.push({ agents: Number(values['cluster-agents']), cluster: true });
  for (const p of plan) {
    try {
      const r = await scenario({ ...p, domains, log }, problems);
      rows.push(...r.rows);
      details[p.cluster ? 'cluster' : 'single'] = r.details;
    } catch (e) {
      problems.push(`${p.cluster ? 'cluster' : 'single'}: ${(e as Error).message}`);
      rows.push(skipped(`fleet.${p.cluster ? 'cluster' : 'single'}`, 'scenario failed', (e as Error).message));
    }
  }
  const machine = { node: process.version, cpus: cpus().length };
  if (values.json) process.stdout.write(`${JSON.stringify({ machine, rows, details, problems }, null, 2)}\n`);
  else {
    process.stdout.write(
      `${renderTable(rows, `virtbus fleet bench: node ${machine.node}, ${machine.cpus} CPUs, ${((Date.now() - started) / 1000).toFixed(0)} s`)}\n`,
    );
    if (problems.length) process.stdout.write(`\nproblems seen:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  }
  return problems.length ? 1 : 0;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => void runAllCleanups().then(() => process.exit(130)));
main().then(
  async (code) => {
    await runAllCleanups();
    process.exit(code);
  },
  async (e) => {
    process.stderr.write(`fleet bench: ${String((e as Error)?.stack ?? e)}\n`);
    await runAllCleanups();
    process.exit(1);
  },
);
