/**
 * The fault suite (issue 9, item 6): RabbitMQ restart and Mosquitto restart
 * under a steady command load, kill -9 of the agent under load (once while a
 * slow mutating command runs on the real lab, so the abandoned-command path
 * runs), and libvirtd kill + restart. Each asserts: no command lost, none
 * executed twice, no seq gap per domain and agent run, and (broker, libvirtd)
 * recovery within 5 s of the broker or libvirtd being back.
 *
 * Decisions:
 * - Brokers: PRIVATE ones (scripts/private-broker.sh via
 *   test/helpers/private-brokers.ts), never the system brokers: a RabbitMQ
 *   node virtbus-faults@localhost and a Mosquitto (persistence on,
 *   set_tcp_nodelay, no queued-message limit) on free ports, started in
 *   beforeAll and always taken down in afterAll. A restart is a clean stop
 *   (rabbitmqctl shutdown; SIGTERM for Mosquitto, which saves its sessions)
 *   and a start on the same data folder: the quorum command queue, the
 *   client's durable queues and persistent MQTT sessions survive it.
 * - Agents are real processes (dist/agent/main.js) with --redis, so the
 *   outcome of every mutating command is durable (a redelivery or resend
 *   after a restart is answered from the record, never re-executed).
 *   Broker faults run on the test driver (test:///default, inside the
 *   agent); kill -9 and libvirtd faults on the lab's real libvirtd
 *   (qemu:///system), with tiny QEMU guests (no disk, no kernel) that are
 *   all undefined at the end.
 * - Load: domain.define of uniquely named domains at a fixed rate (each
 *   name once: a second execution shows as a second `defined` or a
 *   `defined/updated` event, and in libvirt) plus one worker per running
 *   domain alternating suspend/resume (lifecycle events; each ok command
 *   must show exactly one event). A define costs libvirt a RelaxNG
 *   validation (~5-8 ms of CPU; one agent does ~150/s on this 2-core
 *   machine), suspend/resume next to nothing, so the mix is: broker faults
 *   50 defines/s + 20 lifecycle workers pausing 50 ms (~350 commands/s in
 *   all); lab faults 30 defines/s + 6 tiny QEMU guests (~200/s).
 * - The client (test/helpers/orchestrator.ts) is an orchestrator: it
 *   reconnects every 100 ms, keeps its queues/session over a restart,
 *   de-duplicates events by id and re-sends a command with the SAME id
 *   every 3 s until a final reply (IN_PROGRESS is not final). A command
 *   without a final reply 60 s after it was issued is lost. New commands
 *   are only issued while the client is connected.
 * - seq: domain events carry no bootId, so an event belongs to the agent
 *   run that started last before the event's `at`; per run and domain the
 *   seqs must be exactly 1, 2, 3, … (a SIGKILL may cut a run's tail, never
 *   its middle).
 * - After a SIGKILL or a libvirtd kill, events of the commands in flight may
 *   be missing (never sent). A command that was running in the killed agent
 *   is answered with the abandoned INTERNAL error (outcome unknown, not run
 *   again) — the only error allowed there. A libvirt call cut by the
 *   libvirtd kill is answered with its LIBVIRT error ("Cannot recv data",
 *   "client socket is closed"), though it may have happened all the same
 *   (seen: suspends whose `suspended` event came); that, and UNAVAILABLE (not
 *   run: libvirt not connected), are the only errors allowed there, at most
 *   --max-concurrent of them, and the measurements line says which
 *   happened. Libvirt is the truth: every ok define exists, every domain of
 *   ours in libvirt was asked for, lifecycle guests are where their last ok
 *   command left them; an event beyond the ok (or unknown-outcome) commands
 *   is a second execution.
 * - Recovery: from the moment the broker's port accepts TCP connections
 *   again (probed every 10 ms), or a libvirt connection to the restarted
 *   libvirtd opens (probed every 50 ms), to the agent's reconnect log line
 *   ('bus connected' reconnect=true / 'libvirt reconnected') and to the
 *   first reply to a command sent after that moment. Both must be ≤ 5 s;
 *   the reconnect backoff is capped at 2 s with jitter
 *   (src/reconnect/backoff.ts). libvirtd is SIGKILLed and kept down 2 s
 *   (commands meanwhile wait in the agent), then started by
 *   `lab.sh restart-node1`. After an agent SIGKILL a new agent is started
 *   at once (a supervisor's restart); its start time is measured, not
 *   bounded by the 5 s rule.
 * - Every daemon the suite starts (brokers, libvirtd, agents) is started
 *   with the descriptors above stderr closed: under
 *   `flock /tmp/virtbus-test.lock npx jest` one is the lock.
 * - Services missing (Redis, the lab, the broker packages) fail the test
 *   with what to start; nothing is skipped. Every test cleans up in
 *   afterEach (test/helpers/cleanup.ts), also after a failure or a
 *   timeout: agents killed, QEMU continued, domains undefined, libvirtd
 *   running again, Redis keys deleted; afterAll takes the brokers down.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type IORedis from 'ioredis';
import { Connection } from '../../src/libvirt';
import { AgentRun, agentArgs } from '../helpers/agent-process';
import { redisClient } from '../helpers/redis';
import { cleanupAfterEach } from '../helpers/cleanup';
import {
  abandonedError,
  alive,
  connectionBroke,
  existsLibvirtd,
  labDomains,
  libvirtStates,
  libvirtdPid,
  notConnected,
  restartNode1,
  waitFor,
  waitForAsync,
} from '../helpers/fault-lab';
import {
  Load,
  checkLibvirt,
  eventsSettled,
  expectClean,
  summary,
  testDriverXml,
  tinyQemuXml,
  verdict,
  type Boot,
  type Verdict,
} from '../helpers/fault-load';
import { NODE1_URI, qemuPid } from '../helpers/lab';
import { AmqpOrchestrator, MqttOrchestrator, type Orchestrator } from '../helpers/orchestrator';
import { PrivateBroker, downAll } from '../helpers/private-brokers';
import { deleteNodeKeys } from '../helpers/redis';

jest.setTimeout(240_000);

const RECOVERY_LIMIT_MS = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let seq = 0;
const uniq = (what: string) => `f${what}-${process.pid}-${Date.now().toString(36)}-${seq++}`;

let rabbit: PrivateBroker | undefined;
let mosquitto: PrivateBroker | undefined;
let redis: IORedis;
const measured: string[] = [];
const defer = cleanupAfterEach();

beforeAll(async () => {
  redis = await redisClient();
  const [r, m] = await Promise.allSettled([
    PrivateBroker.up('rabbitmq', 'faults'),
    PrivateBroker.up('mosquitto', 'faults'),
  ]);
  if (r.status === 'fulfilled') rabbit = r.value;
  if (m.status === 'fulfilled') mosquitto = m.value;
  if (r.status === 'rejected') throw r.reason;
  if (m.status === 'rejected') throw m.reason;
});

afterAll(async () => {
  await downAll();
  redis?.disconnect();
  if (measured.length) console.log(`fault suite measurements:\n  ${measured.join('\n  ')}`);
});

function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'virtbus-faults-'));
  defer('state dir', () => rmSync(d, { recursive: true, force: true }));
  return d;
}

function record(name: string, v: Verdict, extra: string): void {
  measured.push(`${name}: ${extra}; ${summary(v)}`);
}

// ---------------------------------------------------------------------------------------------
// Broker restarts (test driver)

async function brokerRestart(o: {
  name: string;
  broker: () => PrivateBroker;
  client: (url: string, node: string) => Promise<Orchestrator>;
  agentExtra?: string[];
  pauseMs: number;
}): Promise<void> {
  const node = uniq(o.name);
  const broker = o.broker();
  defer('redis keys', () => deleteNodeKeys(node));
  const client = await o.client(broker.url, node);
  defer('client', () => client.close());
  const agent = await AgentRun.start(
    agentArgs({ node, bus: broker.url, libvirtUri: 'test:///default', stateDir: stateDir(), extra: o.agentExtra }),
  );
  defer('agent', () => agent.kill());
  const boots: Boot[] = [{ startedAt: agent.spawnedAt }];

  const prefix = `${node}-d`;
  const lifecycle = Array.from({ length: 20 }, (_, i) => `${node}-lc${i}`);
  for (const d of lifecycle) {
    await client.ok('domain.define', { xml: testDriverXml(d) });
    await client.ok('domain.start', { domain: d });
  }
  const load = new Load(client, { definesPerS: 50, defineXml: testDriverXml, prefix, lifecycle, lifecyclePauseMs: 50 });
  load.start();
  defer('load', async () => {
    await client.close();
    await load.stop();
  });
  await sleep(3000);

  const before = load.issued; // answered so far
  const { stoppedAt, upAt } = await broker.restart(o.pauseMs);
  const lost = agent.firstLog('bus connection lost', stoppedAt - 10_000);
  expect(lost).toBeDefined();
  const back = await agent.waitLog('bus connected', stoppedAt, 30_000, (l) => l.reconnect === true);
  // MQTT: the persistent session survived (commands sent meanwhile were kept)
  expect(agent.logs.filter((l) => /no session/.test(l.msg)).map((l) => l.msg)).toEqual([]);
  const reply = await waitFor(() => client.firstReplyAfter(upAt), 'a reply after the broker came back', 30_000);
  await sleep(3000);
  await load.stop();
  const trailMs = await eventsSettled(client);

  // libvirt (the test driver lives in the agent): every ok define exists, lifecycle domains where their last ok command left them
  const listed = new Map<string, string>(
    ((await client.ok('domain.list', {})).domains as Array<{ name: string; state: string }>).map((d) => [
      d.name,
      d.state,
    ]),
  );
  checkLibvirt(load, listed, prefix);

  // the agent announced itself again after the reconnect: online with the same bootId, not only its snapshot
  const again = client.events.filter(
    (e) => e.type === 'virtbus.event.agent.online' && e.receivedAt >= upAt && e.data?.bootId === agent.bootId,
  );
  expect(again.length).toBeGreaterThanOrEqual(1);

  const v = verdict(client, load, { boots });
  const agentMs = back.t - upAt;
  const replyMs = reply - upAt;
  record(
    o.name,
    v,
    `broker accepting again ${upAt - stoppedAt} ms after its stop completed; agent reconnected ${agentMs} ms and first reply ${replyMs} ms after the broker was back; ` +
      `${before} commands answered in the 3 s before the restart; events trailed the last reply by ${trailMs} ms`,
  );
  expectClean(v);
  expect(v.answeredOk).toBe(v.issued);
  expect(agentMs).toBeLessThanOrEqual(RECOVERY_LIMIT_MS);
  expect(replyMs).toBeLessThanOrEqual(RECOVERY_LIMIT_MS);
}

test('RabbitMQ restart under load: nothing lost or run twice, no seq gap, the agent is back within 5 s', async () => {
  await brokerRestart({
    name: 'rabbitmq-restart',
    broker: () => rabbit!,
    client: (url, node) => AmqpOrchestrator.connect(url, node),
    pauseMs: 0,
  });
});

test('Mosquitto restart under load: nothing lost or run twice, no seq gap, the agent is back within 5 s', async () => {
  await brokerRestart({
    name: 'mosquitto-restart',
    broker: () => mosquitto!,
    client: (url, node) => MqttOrchestrator.connect(url, node),
    agentExtra: ['--mqtt-version', '5'],
    pauseMs: 2000,
  });
});

// ---------------------------------------------------------------------------------------------
// The real lab (qemu:///system): kill -9 of the agent, libvirtd kill + restart

test('kill -9 of the agent under load, once while a slow mutating command runs: answered as abandoned, nothing run twice, no seq gap', async () => {
  const node = uniq('kill');
  const { prefix, lifecycle } = await labDomains(defer, node, 6, ['slow']);
  const slow = `${prefix}slow`;
  defer('redis keys', () => deleteNodeKeys(node));
  const client = await AmqpOrchestrator.connect(rabbit!.url, node);
  defer('client', () => client.close());
  const args = agentArgs({ node, bus: rabbit!.url, libvirtUri: NODE1_URI, stateDir: stateDir() });
  const runs: AgentRun[] = [];
  defer('agents', async () => {
    for (const r of runs) await r.kill();
  });
  const start = async () => {
    const r = await AgentRun.start(args);
    runs.push(r);
    return r;
  };

  const a = await start();
  const load = new Load(client, {
    definesPerS: 30,
    defineXml: tinyQemuXml,
    prefix: `${prefix}d`,
    lifecycle,
    lifecyclePauseMs: 50,
  });
  load.start();
  defer('load', async () => {
    await client.close();
    await load.stop();
  });
  await sleep(2000);

  // 1. A slow mutating command: suspend of a guest whose QEMU is stopped blocks in libvirt until it continues.
  const qemu = qemuPid(slow);
  process.kill(qemu, 'SIGSTOP');
  defer('continue QEMU', async () => {
    try {
      process.kill(qemu, 'SIGCONT');
    } catch {
      /* gone */
    }
  });
  const slowId = randomUUID();
  const slowCall = client.call('domain.suspend', { domain: slow }, { id: slowId, giveUpMs: 120_000 });
  await waitForAsync(
    async () =>
      JSON.parse((await redis.get(`virtbus:idem:${node}:${slowId}`)) ?? '{}').state === 'running' || undefined,
    'the slow command to be recorded as running',
    15_000,
  );
  await sleep(300);
  const kill1 = Date.now();
  await a.kill();
  const b = await start();
  const reconciled = b.firstLog('jobs reconciled');
  expect(reconciled?.abandonedCommands).toContain(slowId);
  process.kill(qemu, 'SIGCONT');
  const slowDone = await slowCall;
  expect(slowDone.final).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  expect(abandonedError(slowDone)).toBe(true);
  // the suspend the killed agent asked for did happen — once
  await waitForAsync(
    async () => (await libvirtStates(slow)).get(slow) === 'paused' || undefined,
    `${slow} to be paused`,
    15_000,
  );
  await sleep(2000);

  // 2. Again, under the load alone.
  const kill2 = Date.now();
  await b.kill();
  const c3 = await start();
  await sleep(3000);
  await load.stop();
  const trailMs = await eventsSettled(client);

  const states = await libvirtStates(prefix);
  checkLibvirt(load, states, `${prefix}d`);
  expect(states.get(slow)).toBe('paused');
  const slowEvents = client.events.filter(
    (e) => e.type === 'virtbus.event.domain.lifecycle' && e.data.domain?.name === slow && e.data.event === 'suspended',
  );
  expect(slowEvents).toHaveLength(1);

  const v = verdict(client, load, {
    boots: runs.map((r) => ({ startedAt: r.spawnedAt })),
    eventsMayBeMissing: true,
    allowedError: abandonedError,
  });
  const firstAfter1 = client.firstReplyAfter(kill1)! - kill1;
  const firstAfter2 = client.firstReplyAfter(kill2)! - kill2;
  record(
    'agent-kill-9',
    v,
    `restarted agent ready ${b.readyTime! - kill1} / ${c3.readyTime! - kill2} ms after each SIGKILL, ` +
      `first command sent after it answered ${firstAfter1} / ${firstAfter2} ms after it; ${v.allowedErrors.length} in-flight commands answered as abandoned ` +
      `(+ the slow suspend); ${v.missingEvents.length} events of killed runs never sent; events trailed ${trailMs} ms`,
  );
  expectClean(v, { eventsMayBeMissing: true });
  expect(v.allowedErrors.length).toBeLessThanOrEqual(2 * 16); // per kill at most --max-concurrent commands were running
});

test('libvirtd kill + restart under load: nothing lost or run twice, no seq gap, the agent is back within 5 s', async () => {
  const node = uniq('lvd');
  const { prefix, lifecycle } = await labDomains(defer, node, 6);
  defer('redis keys', () => deleteNodeKeys(node));
  const client = await AmqpOrchestrator.connect(rabbit!.url, node);
  defer('client', () => client.close());
  const agent = await AgentRun.start(
    agentArgs({ node, bus: rabbit!.url, libvirtUri: NODE1_URI, stateDir: stateDir() }),
  );
  defer('agent', () => agent.kill());
  const load = new Load(client, {
    definesPerS: 30,
    defineXml: tinyQemuXml,
    prefix: `${prefix}d`,
    lifecycle,
    lifecyclePauseMs: 50,
  });
  load.start();
  defer('load', async () => {
    await client.close();
    await load.stop();
  });
  await sleep(2000);

  // libvirtd is back when a libvirt connection opens again (after it was seen down)
  const killedAt = Date.now();
  let seenDown = false;
  let upAt = 0;
  const probe = (async () => {
    while (!upAt && Date.now() - killedAt < 120_000) {
      try {
        const p = await Connection.open(NODE1_URI);
        if (seenDown) upAt = Date.now();
        await p.close();
      } catch {
        seenDown = true;
      }
      if (!upAt) await sleep(50);
    }
  })();
  // SIGKILL, 2 s down (commands arriving meanwhile wait for libvirt), then lab.sh restart-node1 starts it again
  const pid = libvirtdPid();
  defer('libvirtd running again', async () => {
    if (!alive(pid) && !existsLibvirtd()) await restartNode1();
  });
  process.kill(pid, 'SIGKILL');
  await waitFor(() => (alive(pid) ? undefined : true), 'libvirtd to die', 10_000);
  await sleep(2000);
  await restartNode1();
  await probe;
  expect(seenDown).toBe(true);
  expect(agent.firstLog('libvirt connection lost', killedAt)).toBeDefined();
  const back = await agent.waitLog('libvirt reconnected', killedAt, 30_000);
  const reply = await waitFor(() => client.firstReplyAfter(upAt), 'a reply after libvirtd came back', 30_000);
  await sleep(3000);
  await load.stop();
  const trailMs = await eventsSettled(client);

  const states = await libvirtStates(prefix);
  checkLibvirt(load, states, `${prefix}d`);
  const v = verdict(client, load, {
    boots: [{ startedAt: agent.spawnedAt }],
    eventsMayBeMissing: true,
    allowedError: (x) => connectionBroke(x) || notConnected(x),
  });
  const agentMs = back.t - upAt;
  const replyMs = reply - upAt;
  // a call cut by the libvirtd kill has an unknown outcome, yet is answered as a LIBVIRT error: did it happen?
  const cut = [...load.defines].filter(([, x]) => connectionBroke(x));
  const happened = cut.filter(([name]) => states.has(name)).length;
  // one refused as not connected must not have happened
  expect([...load.defines].filter(([name, x]) => notConnected(x) && states.has(name)).map(([name]) => name)).toEqual(
    [],
  );
  record(
    'libvirtd-restart',
    v,
    `libvirtd back ${upAt - killedAt} ms after the SIGKILL; agent reconnected ${agentMs} ms and first reply ${replyMs} ms after libvirtd was back; ` +
      `${v.allowedErrors.length} calls cut by the kill answered LIBVIRT ${JSON.stringify(v.allowedErrors.map((e) => (e.error as { message: string }).message))}, ` +
      `of which done all the same: ${happened} of ${cut.length} defines, lifecycle: ${v.failedButDone.join('; ') || 'none'}; ` +
      `${v.missingEvents.length} events libvirtd never sent; events trailed ${trailMs} ms`,
  );
  expect(v.allowedErrors.length).toBeLessThanOrEqual(16); // at most --max-concurrent calls were in flight
  expectClean(v, { eventsMayBeMissing: true });
  expect(agentMs).toBeLessThanOrEqual(RECOVERY_LIMIT_MS);
  expect(replyMs).toBeLessThanOrEqual(RECOVERY_LIMIT_MS);
});
