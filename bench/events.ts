// Row 4: lifecycle events of an agent on a 1,000-domain test-driver node,
// driven by suspend/resume commands over AMQP, counted by a plain amqplib
// consumer on virtbus.events — next to a bare amqplib stand-in doing the same
// broker work in the same run (lib/standin-amqp.ts).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import amqp from 'amqplib';
import { COMMANDS_EXCHANGE, EVENTS_EXCHANGE, commandQueue } from '../src/contract/addresses';
import { deleteQueues, spawnAgent } from './lib/agent-process';
import { waitAnswering } from './lib/agent-ready';
import { AmqpRequester } from './lib/amqp-requester';
import { withCleanup, type Cleanup } from './lib/cleanup';
import { commandBody } from './lib/commands';
import { QUORUM } from './lib/echo-amqp';
import { checkEvents, type EventCheck } from './lib/event-checks';
import { EventWatch, nowMs, type SeenEvent } from './lib/event-watch';
import { LifecycleDriver, type DriveResult } from './lib/lifecycle-driver';
import { cpuSeconds, sleep } from './lib/proc';
import { measured, type Row } from './lib/report';
import { startResponder } from './lib/responder-process';
import { summarize, type Summary } from './lib/stats';
import { domainNames, writeTestNode } from './lib/test-node-xml';
import { tempDir } from './lib/tmp';
import type { BenchOptions } from './options';

const DOMAINS = 1000;
const IN_FLIGHT = 256;
const RATE = 1000;
const IDLE_MS = 3000;

interface Side {
  eventsPerS: number;
  /** commands/s actually sent in the paced phase (the agent's driver waits when every domain has one in flight) */
  pacedPerS: number;
  throughputEvents: number;
  latency: Summary;
  /** CPU (user + system, all threads) the agent or stand-in process used per command in the throughput phase, µs */
  cpuPerCommandUs: number;
  check: EventCheck;
  notOk: number;
  detail: Record<string, unknown>;
}

const latencies = (events: SeenEvent[]) => summarize(events.map((e) => e.recvAt - e.at));

/** The agent: saturate with 256 in flight, then paced at 1,000 commands/s. */
async function agentSide(o: BenchOptions, names: string[], durationMs: number, cleanup: Cleanup): Promise<Side> {
  const uri = writeTestNode(tempDir('node1000', cleanup), names);
  const agent = spawnAgent(
    { label: 'events', bus: o.amqpUrl, libvirtUri: uri, prefetch: IN_FLIGHT, problems: o.problems },
    cleanup,
  );
  const req = await AmqpRequester.open(o.amqpUrl);
  cleanup.add('close AMQP requester', () => req.close());
  await waitAnswering(agent, (ms) => req.request('', commandQueue(agent.nodeId), commandBody('agent.ping', {}), ms));
  const watch = await EventWatch.open(o.amqpUrl, EVENTS_EXCHANGE, `v1.${agent.nodeId}.domain.*.lifecycle`, cleanup);
  const driver = new LifecycleDriver(names, (command, domain) =>
    req.request(COMMANDS_EXCHANGE, agent.nodeId, commandBody(command, { domain }), 30_000),
  );

  o.log(`events: agent, ${IN_FLIGHT} suspend/resume in flight over ${DOMAINS} domains for ${durationMs} ms`);
  watch.phase = 'throughput';
  const cpu0 = cpuSeconds(agent.child.pid);
  const tp = await driver.saturate(IN_FLIGHT, durationMs);
  await watch.waitFor('throughput', tp.ok, IDLE_MS);
  const cpuPerCommandUs = ((cpuSeconds(agent.child.pid) - cpu0) / tp.ok) * 1e6;
  const tpEvents = watch.of('throughput');
  const lastAt = Math.max(...tpEvents.map((e) => e.recvAt));
  const eventsPerS = tpEvents.length / ((lastAt - tp.firstSentAt) / 1000);

  o.log(`events: agent, paced ${RATE} commands/s for ${durationMs} ms`);
  watch.phase = 'paced';
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const paced = await driver.paced(RATE, durationMs);
  await watch.waitFor('paced', paced.ok, IDLE_MS);
  loop.disable();
  await sleep(200); // a straggler or a duplicate would land here
  const check = checkEvents(watch.events, driver.totalOkSuspend, driver.totalOkResume);
  if (watch.unreadable) o.problems.push(`events: ${watch.unreadable} agent events were not readable JSON`);
  return {
    eventsPerS,
    pacedPerS: paced.sent / paced.seconds,
    throughputEvents: tpEvents.length,
    latency: latencies(watch.of('paced')),
    cpuPerCommandUs,
    check,
    notOk: driver.totalFailed,
    detail: {
      throughput: tp,
      paced: pacedInfo(paced),
      // how late this process (driver + consumer) ran its callbacks while paced: part of the measured latency
      benchEventLoopDelayMs: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6 },
      agentArgs: agent.args,
    },
  };
}

const pacedInfo = (p: DriveResult) => ({ ...p, achievedPerS: p.sent / p.seconds });

/**
 * The stand-in, loaded exactly as the agent: the same driver sends
 * suspend/resume with 256 in flight and waits for each reply, then paced at
 * 1,000 commands/s. Before that it drains N commands queued while it was not
 * consuming (the earlier baseline, kept as a row of its own: with no
 * senders at work the broker does less per event, so that figure is higher
 * than what the same broker work under load allows).
 */
async function standinSide(
  o: BenchOptions,
  names: string[],
  n: number,
  durationMs: number,
  cleanup: Cleanup,
): Promise<Side & { drainedPerS: number }> {
  const queue = `bench-standin-${process.pid}`;
  const exchange = `bench-events-${process.pid}`;
  cleanup.add(`delete ${queue}, ${exchange}`, () => deleteQueues(o.amqpUrl, [queue], [exchange]));
  const conn = await amqp.connect(o.amqpUrl, { noDelay: true });
  cleanup.add('close stand-in feeder', () => conn.close().catch(() => undefined));
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue(queue, QUORUM);
  await ch.assertExchange(exchange, 'topic', { durable: false });
  const { queue: replies } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  let replyCount = 0;
  await ch.consume(replies, () => replyCount++, { noAck: true });
  const watch = await EventWatch.open(o.amqpUrl, exchange, 'v1.standin.domain.*.lifecycle', cleanup);
  let suspends = 0;
  let resumes = 0;
  for (let i = 0; i < n; i++) {
    // every domain suspended, then every one resumed, …: the drained phase leaves them as it found them
    const suspend = Math.floor(i / names.length) % 2 === 0;
    if (suspend) suspends++;
    else resumes++;
    const id = `standin-${i}`;
    ch.sendToQueue(
      queue,
      commandBody(suspend ? 'domain.suspend' : 'domain.resume', { domain: names[i % names.length] }, id),
      {
        replyTo: replies,
        correlationId: id,
        messageId: id,
        persistent: true,
      },
    );
  }

  o.log(`events: stand-in, ${n} commands queued, then consumed with prefetch ${IN_FLIGHT}`);
  await ch.waitForConfirms();
  watch.phase = 'drained';
  const { line, child } = await startResponder(
    'amqp-standin',
    [o.amqpUrl, queue, exchange, String(IN_FLIGHT)],
    cleanup,
    'consuming',
  );
  const consumingAt = line.at as number;
  await watch.waitFor('drained', n, IDLE_MS);
  const drained = watch.of('drained');
  const drainedPerS = drained.length / ((Math.max(...drained.map((e) => e.recvAt)) - consumingAt) / 1000);
  // a full round of suspends and resumes may not have ended: the driver starts from what the domains are now
  const req = await AmqpRequester.open(o.amqpUrl);
  cleanup.add('close stand-in requester', () => req.close());
  const driver = new LifecycleDriver(names, (command, domain) =>
    req.request('', queue, commandBody(command, { domain }), 30_000),
  );
  if (Math.floor((n - 1) / names.length) % 2 === 0) driver.markSuspended(names.slice(0, ((n - 1) % names.length) + 1));

  o.log(`events: stand-in, ${IN_FLIGHT} suspend/resume in flight for ${durationMs} ms`);
  watch.phase = 'throughput';
  const cpu0 = cpuSeconds(child.pid);
  const tp = await driver.saturate(IN_FLIGHT, durationMs);
  await watch.waitFor('throughput', tp.ok, IDLE_MS);
  const cpuPerCommandUs = ((cpuSeconds(child.pid) - cpu0) / tp.ok) * 1e6;
  const tpEvents = watch.of('throughput');
  const eventsPerS = tpEvents.length / ((Math.max(...tpEvents.map((e) => e.recvAt)) - tp.firstSentAt) / 1000);

  o.log(`events: stand-in, paced ${RATE} commands/s for ${durationMs} ms`);
  watch.phase = 'paced';
  const paced = await driver.paced(RATE, durationMs);
  await watch.waitFor('paced', paced.ok, IDLE_MS);
  await sleep(200);
  const check = checkEvents(watch.events, suspends + driver.totalOkSuspend, resumes + driver.totalOkResume);
  return {
    eventsPerS,
    drainedPerS,
    pacedPerS: paced.sent / paced.seconds,
    throughputEvents: tpEvents.length,
    latency: latencies(watch.of('paced')),
    cpuPerCommandUs,
    check,
    notOk: n - replyCount + driver.totalFailed,
    detail: { queued: n, drainedPerS, consumingAt, throughput: tp, paced: pacedInfo(paced), replies: replyCount },
  };
}

export async function runEvents(o: BenchOptions): Promise<Row[]> {
  const durationMs = o.quick ? 2000 : 5000;
  const names = domainNames(DOMAINS, 'e');
  const agent = await withCleanup(o.problems, (c) => agentSide(o, names, durationMs, c));
  const n = o.quick ? 2000 : 10_000;
  const standin = await withCleanup(o.problems, (c) => standinSide(o, names, n, durationMs, c));
  o.details.events = {
    agent: { ...agent.detail, latency: agent.latency, check: agent.check, eventsPerS: agent.eventsPerS },
    standin: { ...standin.detail, latency: standin.latency, check: standin.check, eventsPerS: standin.eventsPerS },
    measuredAt: new Date(nowMs()).toISOString(),
  };
  const a = agent.check;
  if (agent.notOk) o.problems.push(`events: ${agent.notOk} suspend/resume commands not answered ok`);
  if (a.lost || a.extra)
    o.problems.push(
      `events: ${a.lost} lost and ${a.extra} extra lifecycle events (suspended ${a.suspended}/${a.expectedSuspended}, resumed ${a.resumed}/${a.expectedResumed})`,
    );
  if (a.seqGaps || a.seqDisorder)
    o.problems.push(
      `events: seq gaps ${a.seqGaps}, repeats/disorder ${a.seqDisorder} on ${a.domainsWithSeqProblems} domains, e.g. ${a.examples.join('; ')}`,
    );
  const zero = { of: 'agent' as const, op: '<=' as const, value: 0 };
  const sc = standin.check;
  return [
    measured(
      'events.throughput',
      `events/s, ${IN_FLIGHT} suspend/resume in flight, ${DOMAINS.toLocaleString('en-US')} domains`,
      'events/s',
      agent.eventsPerS,
      standin.eventsPerS,
      'amqplib stand-in',
      { of: 'ratio', op: '>=', value: 0.5 },
    ),
    measured(
      'events.drained',
      `events/s, stand-in draining a pre-filled queue (no senders; the earlier baseline)`,
      'events/s',
      agent.eventsPerS,
      standin.drainedPerS,
      'stand-in, pre-filled',
    ),
    measured(
      'events.cpu',
      `CPU per command while saturated (process, all threads)`,
      'µs',
      agent.cpuPerCommandUs,
      standin.cpuPerCommandUs,
      'stand-in',
    ),
    measured(
      'events.paced.rate',
      `commands/s sent at a ${RATE.toLocaleString('en-US')}/s pace (1 in flight per domain at most)`,
      'cmd/s',
      agent.pacedPerS,
      standin.pacedPerS,
      'stand-in',
    ),
    measured(
      'events.latency.p50',
      `event latency p50 at ${RATE.toLocaleString('en-US')} cmd/s (libvirt → consumer)`,
      'ms',
      agent.latency.p50,
      standin.latency.p50,
      'stand-in',
    ),
    measured(
      'events.latency.p99',
      `event latency p99 at ${RATE.toLocaleString('en-US')} cmd/s (libvirt → consumer)`,
      'ms',
      agent.latency.p99,
      standin.latency.p99,
      'stand-in',
      { of: 'agent', op: '<=', value: 5 },
    ),
    measured('events.notOk', 'commands not answered ok', 'count', agent.notOk, standin.notOk, 'stand-in', zero),
    measured(
      'events.lost',
      'lifecycle events lost or extra',
      'count',
      a.lost + a.extra,
      sc.lost + sc.extra,
      'stand-in',
      zero,
    ),
    measured(
      'events.seq',
      'per-domain seq gaps or disorder',
      'count',
      a.seqGaps + a.seqDisorder,
      sc.seqGaps + sc.seqDisorder,
      'stand-in',
      zero,
    ),
  ];
}
