/**
 * A real 3-node RabbitMQ cluster on this machine and the agent on it: its
 * command queue is a quorum queue replicated on all three nodes; commands
 * flow under load while (a) the node the agent is connected to is stopped
 * and while (b) the command queue's leader is stopped; each time nothing is
 * lost, nothing runs twice, every reply is delivered, the agent is back
 * within 5 s, and the stopped node rejoins (the fleet is whole again).
 *
 * Decisions:
 * - The cluster: PRIVATE nodes virtbus-cluster1…3@localhost
 *   (scripts/private-broker.sh cluster-up, test/helpers/private-brokers.ts
 *   PrivateCluster), each with its own ports and data folder, nodes 2 and 3
 *   joined to node 1 with `rabbitmqctl join_cluster`; up in beforeAll,
 *   always down in afterAll (also after a failure). The system brokers are
 *   never touched. A stop is a clean `rabbitmqctl shutdown`; a stopped node
 *   started again rejoins by itself.
 * - The agent is a real process (dist/agent/main.js) with
 *   `--bus amqp://node1,amqp://node2,amqp://node3` (each connect attempt
 *   takes the next URL) and `--redis`, so a redelivered or re-sent command
 *   is answered from the durable record, never run again. It runs the test
 *   driver (test:///default). It connects to node 1 first and declares its
 *   queues there, so node 1 first leads the command queue
 *   (client-local leader placement).
 * - The orchestrator (test/helpers/orchestrator.ts) takes the URL list
 *   starting at node 3 (so it is not on the agent's node), fails over the
 *   same way, and keeps its replies and events in QUORUM queues (a classic
 *   queue lives on one node and is unreachable while that node is down).
 *   It re-sends a command with the same id every 3 s until a final reply.
 * - Load: the fault suite's Load (test/helpers/fault-load.ts), scaled to
 *   what three RabbitMQ nodes, the agent and the client get done on this
 *   2-core machine: 50 domain.define/s of uniquely named domains (as the
 *   fault suite) + 4 lifecycle workers (there 20) alternating
 *   suspend/resume with 50 ms pauses: ~70 commands/s, the machine ~95%
 *   busy, p50 ~150-250 ms, no re-sends before a fault. Every command here
 *   is three quorum-queue writes (command, reply, event), each replicated to
 *   three nodes; with 20 workers (which take whatever capacity is left) the
 *   cluster saturates (p50 8-25 s) and nearly every command is re-sent,
 *   which measures the overload, not the failover. Each phase has
 *   its own domains. The verdict: no command without a final reply (lost),
 *   none failed, none executed twice (a define seen twice or as an update;
 *   more lifecycle events than ok commands), no seq gap, no event missing;
 *   libvirt (domain.list) agrees with the replies. Nodes and connections
 *   are picked (rabbitmqctl) before the load starts: each rabbitmqctl call
 *   costs an Erlang VM start.
 * - (a) stops the node holding the agent's connection (found with
 *   `rabbitmqctl list_connections`, by the agent's client-provided
 *   connection name): it also leads the command queue, so the agent fails
 *   over while the queue elects a new leader. The agent must log
 *   'bus connected' (reconnect) and then hold its connection on another node.
 * - (b) stops the command queue's leader while the agent's connection is on
 *   another node: if the leader is on the agent's node, leadership is first
 *   moved (as RabbitMQ's maintenance mode does) to a node that holds
 *   neither the agent's nor, if possible, the orchestrator's connection.
 *   Then the agent must NOT lose its connection: a leader change is
 *   invisible to a quorum queue's consumer.
 * - Recovery is measured from the moment the stop completed (`rabbitmqctl
 *   shutdown` returned and the node's process is gone) to the agent's
 *   reconnect log line (a) and to the first reply to a command SENT after
 *   that moment. Both must be ≤ 5 s. A node closes its client connections
 *   early in its shutdown, so the agent is usually back before the stop
 *   completes (a negative time); the measurements line therefore also gives
 *   when the agent lost its connection and how long it was away, and the
 *   longest time without any reply from 1 s before the stop began to the
 *   first reply after it completed (the outage the orchestrator saw).
 * - Presence lives in the fleet's presence log, the stream
 *   virtbus.fleet.presence, replicated on all three nodes like the command
 *   queue; an agent has no presence queue of its own any more. Earlier
 *   versions kept one per node, virtbus.presence.<node>: a classic one is
 *   unreachable while its one node is down, and re-declaring it at reconnect
 *   failed with 404 "home node … is down or inaccessible", so the agent could
 *   not recover onto the other nodes. The last test leaves such a leftover
 *   on a stopped node: the agent (which drops its old presence queue when it
 *   can) must connect and answer all the same.
 * - Whole again: after the node is started, cluster_status lists 3 running
 *   nodes and the command queue and the presence log have 3 members, all online;
 *   a phase starts by making the cluster whole if an earlier one failed.
 * - Services missing (Redis, rabbitmq-server, the built agent) fail the test
 *   with what to start; nothing is skipped.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { firstUrlIndex } from '../../src/endpoint';
import type IORedis from 'ioredis';
import { AgentRun, agentArgs } from '../helpers/agent-process';
import { cleanupAll, cleanupAfterEach, type CleanupStep } from '../helpers/cleanup';
import { waitFor, waitForAsync } from '../helpers/fault-lab';
import {
  Load,
  checkLibvirt,
  eventsSettled,
  expectClean,
  summary,
  testDriverXml,
  verdict,
  type Boot,
} from '../helpers/fault-load';
import { AmqpOrchestrator } from '../helpers/orchestrator';
import { PrivateCluster, downAll, type PrivateBroker } from '../helpers/private-brokers';
import { deleteNodeKeys, redisClient } from '../helpers/redis';

jest.setTimeout(240_000);

const RECOVERY_LIMIT_MS = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const node = `cl-${process.pid}-${Date.now().toString(36)}`;
const cmdQueue = `virtbus.cmd.${node}`;
const presenceLog = 'virtbus.fleet.presence';
const agentConnection = `virtbus-agent-${node}`;

let cluster: PrivateCluster | undefined;
let redis: IORedis | undefined;
let client: AmqpOrchestrator | undefined;
let agent: AgentRun | undefined;
let boots: Boot[] = [];
const teardown: CleanupStep[] = [];
const measured: string[] = [];
const defer = cleanupAfterEach();

beforeAll(async () => {
  redis = await redisClient();
  cluster = await PrivateCluster.up('cluster', 3);
  teardown.push(['cluster', () => cluster?.down()]);
  teardown.push(['redis keys', () => deleteNodeKeys(node)]);
  const stateDir = mkdtempSync(join(tmpdir(), 'virtbus-cluster-'));
  teardown.push(['state dir', () => rmSync(stateDir, { recursive: true, force: true })]);
  const [n1, n2, n3] = cluster.nodes;
  client = await AmqpOrchestrator.connect([n3, n1, n2].map((b) => b.url).join(','), node, { queueType: 'quorum' });
  teardown.push(['client', () => client?.close()]);
  // The agent's round over the URLs starts at the one its node id picks (a fleet spreads over the
  // nodes); the list is laid out so that this is node 1, where the test expects it to begin.
  const k = firstUrlIndex(node, 3);
  const bus = [0, 1, 2].map((i) => [n1, n2, n3][(i - k + 3) % 3].url).join(',');
  agent = await AgentRun.start(agentArgs({ node, bus, libvirtUri: 'test:///default', stateDir }));
  teardown.push(['agent', () => agent?.kill()]);
  boots = [{ startedAt: agent.spawnedAt }];
}, 240_000);

afterAll(async () => {
  try {
    await cleanupAll(teardown.reverse());
  } finally {
    await downAll();
    redis?.disconnect();
    if (measured.length) console.log(`cluster measurements:\n  ${measured.join('\n  ')}`);
  }
}, 120_000);

/** The one node holding the agent's connection. */
async function agentNode(): Promise<PrivateBroker> {
  const on = await cluster!.connectedTo(agentConnection);
  if (on.length !== 1) throw new Error(`the agent has ${on.length} connections (${on.map((b) => b.name)}), not 1`);
  return on[0];
}

/** Every node running and both quorum queues with 3 members online; resolves with how long that took. */
async function whole(timeoutMs = 60_000): Promise<number> {
  const start = Date.now();
  const all = cluster!.nodes.map((b) => b.rabbitNode).sort();
  const gaps = async (): Promise<string | undefined> => {
    const running = await cluster!.runningNodes();
    if (JSON.stringify(running) !== JSON.stringify(all)) return `running nodes ${running.join(', ')}`;
    const queues = await cluster!.queues();
    for (const [q, type] of [
      [cmdQueue, 'quorum'],
      [presenceLog, 'stream'],
    ]) {
      const info = queues.find((x) => x.name === q);
      if (!info) return `no queue ${q}`;
      if (info.type !== type) return `${q} is ${info.type}`;
      if (JSON.stringify(info.members) !== JSON.stringify(all)) return `${q} members ${info.members.join(', ')}`;
      if (JSON.stringify(info.online) !== JSON.stringify(all)) return `${q} online ${info.online.join(', ')}`;
      if (!info.leader) return `${q} has no leader`;
    }
    return undefined;
  };
  let last: string | undefined;
  // each rabbitmqctl call costs an Erlang VM start (~1 s of CPU): ask every 2 s
  while ((last = await gaps().catch((e: Error) => e.message))) {
    if (Date.now() - start > timeoutMs) throw new Error(`the cluster is not whole after ${timeoutMs} ms: ${last}`);
    await sleep(2000);
  }
  return Date.now() - start;
}

/** Starts every node this test stopped (an earlier phase that failed half-way), then waits until whole. */
async function makeWhole(): Promise<void> {
  for (const b of cluster!.nodes) if (!b.running) await b.start();
  await whole();
}

/** The machine's CPU counters (/proc/stat): busy and total jiffies. */
function cpu(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - (f[4] ?? 0), total };
}
const busyPct = (a: { busy: number; total: number }, b: { busy: number; total: number }) =>
  Math.round((100 * (b.busy - a.busy)) / Math.max(1, b.total - a.total));

/** the load: see the header (with the fault suite's 20 lifecycle workers this cluster saturates) */
const DEFINES_PER_S = 50;
const WORKERS = 4;

/** p50/p95 of the time from issue to final reply of the commands issued in [from, to). */
function latency(load: Load, from: number, to: number): string {
  const ms = [...load.defines.values(), ...load.lifecycleCalls.map((l) => l.call)]
    .filter((c) => c.issuedAt >= from && c.issuedAt < to && c.answeredAt !== undefined)
    .map((c) => c.answeredAt! - c.issuedAt)
    .sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? NaN;
  return `${ms.length} commands, p50 ${at(0.5)} ms, p95 ${at(0.95)} ms`;
}

/** The longest time without any final reply from `from` until the first reply after `until`. */
function longestSilence(from: number, until: number): number {
  const at = [...client!.calls.values()]
    .map((c) => c.answeredAt)
    .filter((t): t is number => t !== undefined && t >= from)
    .sort((a, b) => a - b);
  let longest = 0;
  let prev = from;
  for (const t of at) {
    longest = Math.max(longest, t - prev);
    prev = t;
    if (t > until) break;
  }
  return longest;
}

interface Target {
  broker: PrivateBroker;
  why: string;
  /** the agent's connection is on it: the agent must reconnect elsewhere */
  agentOnIt: boolean;
}

async function phase(name: string, pick: () => Promise<Target>): Promise<void> {
  await makeWhole();
  const tag = name.slice(0, 1);
  const prefix = `${node}-${tag}d`;
  const lifecycle = Array.from({ length: WORKERS }, (_, i) => `${node}-${tag}lc${i}`);
  for (const d of lifecycle) {
    await client!.ok('domain.define', { xml: testDriverXml(d) });
    await client!.ok('domain.start', { domain: d });
  }
  const load = new Load(client!, {
    definesPerS: DEFINES_PER_S,
    defineXml: testDriverXml,
    prefix,
    lifecycle,
    lifecyclePauseMs: 50,
  });
  // chosen before the load starts: each rabbitmqctl call costs an Erlang VM start
  const target = await pick();
  const leaderBefore = (await cluster!.queue(cmdQueue))?.leader;
  const clientBefore = client!.url;
  const loadStartedAt = Date.now();
  const cpuAtStart = cpu();
  load.start();
  defer('load', () => load.stop());
  await sleep(3000);

  const cpuBefore = busyPct(cpuAtStart, cpu());
  const stopStartedAt = Date.now();
  defer(`${target.broker.name} running again`, async () => {
    if (!target.broker.running) await target.broker.start();
  });
  await target.broker.stop();
  const stoppedAt = Date.now();

  let agentMs: number | undefined;
  let away = '';
  if (target.agentOnIt) {
    const lost = await agent!.waitLog('bus connection lost', stopStartedAt - 1000, 10_000);
    const back = await agent!.waitLog('bus connected', stopStartedAt, 30_000, (l) => l.reconnect === true);
    agentMs = back.t - stoppedAt;
    away = `agent lost its connection ${lost.t - stopStartedAt} ms after the stop began and was connected again ${back.t - lost.t} ms later, `;
  }
  const reply = await waitFor(() => client!.firstReplyAfter(stoppedAt), 'a reply after the stop', 30_000);
  const replyMs = reply - stoppedAt;
  const leaderAfter = await waitForAsync(
    async () => (await cluster!.queue(cmdQueue))?.leader ?? (await sleep(1000)),
    `a new leader of ${cmdQueue}`,
    30_000,
  );
  const nowOn = await agentNode();
  await sleep(3000);
  await load.stop();
  const trailMs = await eventsSettled(client!);

  const listed = new Map<string, string>(
    ((await client!.ok('domain.list', {})).domains as Array<{ name: string; state: string }>).map((d) => [
      d.name,
      d.state,
    ]),
  );
  checkLibvirt(load, listed, prefix);
  const v = verdict(client!, load, { boots });

  // the fleet whole again: the node started, rejoined, members online
  const { upAt } = await target.broker.start();
  const wholeMs = await whole();
  const info = await cluster!.queue(cmdQueue);

  const silence = longestSilence(stopStartedAt - 1000, reply);
  measured.push(
    `${name}: stopped ${target.broker.rabbitNode} (${target.why}); stop took ${stoppedAt - stopStartedAt} ms; ` +
      away +
      (agentMs !== undefined ? `${agentMs} ms after the stop completed (to ${nowOn.name}); ` : '') +
      `first reply to a command sent after the stop ${replyMs} ms after it; longest time without a reply ${silence} ms; ` +
      `before the stop: ${latency(load, loadStartedAt, stopStartedAt)}, machine CPU ${cpuBefore}% busy; ` +
      `leader ${leaderBefore} → ${leaderAfter}; client ${clientBefore === client!.url ? 'stayed' : 'failed over'}; ` +
      `node accepting again ${upAt - stoppedAt} ms after its stop, whole ${wholeMs} ms later; events trailed ${trailMs} ms; ${summary(v)}`,
  );

  expectClean(v);
  expect(v.answeredOk).toBe(v.issued);
  expect(leaderAfter).not.toBe(target.broker.rabbitNode);
  expect(nowOn).not.toBe(target.broker);
  expect(replyMs).toBeLessThanOrEqual(RECOVERY_LIMIT_MS);
  if (target.agentOnIt) {
    expect(agentMs).toBeLessThanOrEqual(RECOVERY_LIMIT_MS);
  } else {
    // a leader change is invisible to the consumer: the agent kept its connection
    expect(agent!.firstLog('bus connection lost', stopStartedAt - 1000)).toBeUndefined();
  }
  expect(info).toMatchObject({ type: 'quorum', members: cluster!.nodes.map((b) => b.rabbitNode).sort() });
  expect(agent!.exitCode).toBeUndefined();
}

test("the agent's command queue (quorum) and the presence log (stream) are replicated on all three nodes", async () => {
  await whole();
  const all = cluster!.nodes.map((b) => b.rabbitNode).sort();
  for (const q of [cmdQueue, 'virtbus.dlq']) {
    expect(await cluster!.queue(q)).toMatchObject({ type: 'quorum', members: all, online: all });
  }
  expect(await cluster!.queue(presenceLog)).toMatchObject({ type: 'stream', members: all, online: all });
  // the agent began on node 1 (see beforeAll) and declared its queues there: node 1 leads them
  expect((await agentNode()).name).toBe('cluster1');
  expect((await cluster!.leaderOf(cmdQueue))?.name).toBe('cluster1');
  // the client is elsewhere
  expect(client!.url).toBe(cluster!.nodes[2].url);
});

test('(a) the node the agent is connected to stops under load: it reconnects to another within 5 s, nothing lost or run twice, the node rejoins', async () => {
  await phase('agent-node-stop', async () => {
    const on = await agentNode();
    const leader = await cluster!.leaderOf(cmdQueue);
    return {
      broker: on,
      why: `the agent's node${leader === on ? ', leader of the command queue' : ''}`,
      agentOnIt: true,
    };
  });
});

test('(b) the command queue leader stops under load: the agent keeps its connection, nothing lost or run twice, replies within 5 s, the node rejoins', async () => {
  await phase('leader-stop', async () => {
    const agentOn = await agentNode();
    const clientOn = await cluster!.connectedTo(client!.connectionName);
    // a node that holds neither connection, else one without the agent's
    const target =
      cluster!.nodes.find((b) => b !== agentOn && !clientOn.includes(b)) ?? cluster!.nodes.find((b) => b !== agentOn)!;
    let leader = await cluster!.leaderOf(cmdQueue);
    let why = 'leader of the command queue';
    if (leader !== target) {
      await cluster!.transferLeadership(cmdQueue, target);
      why += ` (moved there from ${leader?.name ?? 'none'})`;
      leader = target;
    }
    return {
      broker: leader,
      why: `${why}; agent on ${agentOn.name}, client on ${clientOn.map((b) => b.name).join(',') || 'none'}`,
      agentOnIt: false,
    };
  });
});

test("an agent whose presence queue is an earlier version's classic queue, on a stopped node, still connects and answers commands", async () => {
  await makeWhole();
  const legacy = `${node}-old`;
  const q = `virtbus.presence.${legacy}`;
  const [n1, n2, n3] = cluster!.nodes;
  defer('redis keys', () => deleteNodeKeys(legacy));
  // a classic queue lives on the node it was declared on: node 3
  const conn = await amqp.connect(n3.url);
  try {
    const ch = await conn.createChannel();
    await ch.assertQueue(q, {
      durable: true,
      arguments: { 'x-queue-type': 'classic', 'x-max-length': 1, 'x-overflow': 'drop-head' },
    });
  } finally {
    await conn.close();
  }
  defer(`${n3.name} running again`, async () => {
    if (!n3.running) await n3.start();
  });
  await n3.stop();

  const c = await AmqpOrchestrator.connect([n1, n2].map((b) => b.url).join(','), legacy, { queueType: 'quorum' });
  defer('client', () => c.close());
  const stateDir = mkdtempSync(join(tmpdir(), 'virtbus-cluster-'));
  defer('state dir', () => rmSync(stateDir, { recursive: true, force: true }));
  const old = await AgentRun.start(
    agentArgs({ node: legacy, bus: cluster!.urls, libvirtUri: 'test:///default', stateDir }),
  );
  defer('agent', () => old.kill());
  // earlier: re-declaring it failed every connect with 404 ("home node … is down or inaccessible") until node 3 was back
  expect((await c.ok('domain.list', {})).domains).toEqual(expect.any(Array));

  await n3.start();
  await whole();
});
