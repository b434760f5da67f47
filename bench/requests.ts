// Rows 1–3: domain.get through the agent (in its own process) next to a bare
// echo on the same broker plus the bare libvirt call, measured in the same
// run — over RabbitMQ (AMQP 0-9-1), over a private Mosquitto (MQTT 5), and
// against the lab's real libvirtd when it is up.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { COMMANDS_EXCHANGE, commandQueue, commandTopic } from '../src/contract/addresses';
import { deleteQueues, spawnAgent, type AgentProcess } from './lib/agent-process';
import { waitAnswering } from './lib/agent-ready';
import { AmqpRequester } from './lib/amqp-requester';
import { withCleanup, type Cleanup } from './lib/cleanup';
import { assertOk, commandBody } from './lib/commands';
import { pipelinedRounds, sequentialRounds, type Send } from './lib/load';
import { startMosquitto } from './lib/mosquitto';
import { MqttRequester } from './lib/mqtt-requester';
import { nativeGetInfo } from './lib/native-getinfo';
import { measured, skipped, type Row } from './lib/report';
import { sleep } from './lib/proc';
import { startResponder } from './lib/responder-process';
import { summarize } from './lib/stats';
import { domainNames, writeTestNode } from './lib/test-node-xml';
import { tempDir } from './lib/tmp';
import type { BenchOptions } from './options';

const IN_FLIGHT = 64;
/** the agent's MQTT Receive Maximum (src/bus/mqtt/options.ts): the echo gets the same */
const MQTT_RECEIVE_MAXIMUM = 16;
const SPREAD = 100;
/** the idle wait before the informative rows' getInfo: about a broker round trip here */
const IDLE_MS = 1;

/** One bus as the load generator sees it. */
interface Bus {
  /** a round trip through the bare echo, carrying a command-sized body */
  echo: Send;
  /** a command to the agent; resolves with the reply body */
  command(command: string, data: unknown, timeoutMs?: number): Promise<Buffer>;
}

const sizes = (o: BenchOptions) => ({
  sequential: o.quick ? 300 : 2000,
  pipelinedMs: o.quick ? 1500 : 6000,
});

async function amqpBus(o: BenchOptions, agent: AgentProcess, cleanup: Cleanup): Promise<Bus> {
  const echoQueue = `bench-echo-${process.pid}-${agent.nodeId}`;
  cleanup.add(`delete queue ${echoQueue}`, () => deleteQueues(o.amqpUrl, [echoQueue]));
  await startResponder('amqp-echo', [o.amqpUrl, echoQueue, String(IN_FLIGHT)], cleanup);
  const req = await AmqpRequester.open(o.amqpUrl);
  cleanup.add('close AMQP requester', () => req.close());
  // Pings go to the command queue through the default exchange: until the
  // agent has declared virtbus.commands, publishing there would close the channel.
  await waitAnswering(agent, (ms) => req.request('', commandQueue(agent.nodeId), commandBody('agent.ping', {}), ms));
  return {
    echo: () => req.request('', echoQueue, commandBody('domain.get', { domain: 'test' })),
    command: (command, data, timeoutMs) =>
      req.request(COMMANDS_EXCHANGE, agent.nodeId, commandBody(command, data), timeoutMs),
  };
}

async function mqttBus(url: string, agent: AgentProcess, cleanup: Cleanup): Promise<Bus> {
  const echoTopic = `bench/${process.pid}/echo`;
  await startResponder('mqtt-echo', [url, echoTopic, String(MQTT_RECEIVE_MAXIMUM)], cleanup);
  const req = await MqttRequester.open(url);
  cleanup.add('close MQTT requester', () => req.close());
  const topic = commandTopic(agent.nodeId);
  await waitAnswering(agent, (ms) => req.request(topic, commandBody('agent.ping', {}), ms));
  return {
    echo: () => req.request(echoTopic, commandBody('domain.get', { domain: 'test' })),
    command: (command, data, timeoutMs) => req.request(topic, commandBody(command, data), timeoutMs),
  };
}

const getOk = (bus: Bus, domain: string) => async () =>
  assertOk(await bus.command('domain.get', { domain }), `domain.get ${domain}`);

/** Sequential p50/p99 of domain.get against echo + bare getInfo. */
async function sequentialRows(
  key: string,
  label: string,
  bus: Bus,
  getInfo: Send,
  domain: string,
  n: number,
  o: BenchOptions,
): Promise<Row[]> {
  const ms = await sequentialRounds(
    {
      echo: bus.echo,
      getInfo,
      // the same call after the host idled, as the agent's calls do between commands (informative rows)
      getInfoIdle: { send: getInfo, before: () => sleep(IDLE_MS) },
      agent: getOk(bus, domain),
    },
    n,
  );
  const echo = summarize(ms.echo);
  const info = summarize(ms.getInfo);
  const infoIdle = summarize(ms.getInfoIdle);
  const agent = summarize(ms.agent);
  o.details[`${key}.sequential`] = { n, echo, getInfo: info, getInfoAfterIdle: infoIdle, agent };
  const base = (p: 'p50' | 'p99') => ({
    value: echo[p] + info[p],
    label: `echo ${echo[p].toFixed(2)} + getInfo ${info[p].toFixed(3)}`,
  });
  const p50 = base('p50');
  const p99 = base('p99');
  return [
    measured(`${key}.get.p50`, `${label} domain.get sequential p50`, 'ms', agent.p50, p50.value, p50.label, {
      of: 'ratio',
      op: '<=',
      value: 1.5,
    }),
    measured(`${key}.get.p99`, `${label} domain.get sequential p99`, 'ms', agent.p99, p99.value, p99.label, {
      of: 'ratio',
      op: '<=',
      value: 3,
    }),
    // No target: what the host's wake-ups after an idle wait cost a libvirt call, which the baseline's
    // back-to-back getInfo never pays and the agent's calls always do (bench/RESULTS.md, ninth session).
    measured(
      `${key}.getinfo.idle.p50`,
      `${label} bare getInfo p50 after ${IDLE_MS} ms idle (informative)`,
      'ms',
      infoIdle.p50,
      info.p50,
      'getInfo back to back',
    ),
    measured(
      `${key}.get.p50.idle`,
      `${label} domain.get p50 against echo + getInfo after idle (informative)`,
      'ms',
      agent.p50,
      echo.p50 + infoIdle.p50,
      `echo ${echo.p50.toFixed(2)} + getInfo ${infoIdle.p50.toFixed(3)}`,
    ),
  ];
}

/** Throughput with 64 in flight: one domain, and spread over 100. */
async function pipelinedRows(key: string, label: string, bus: Bus, durationMs: number, o: BenchOptions) {
  let i = 0;
  const spread = domainNames(SPREAD, 'b');
  const t = await pipelinedRounds(
    {
      echo: bus.echo,
      one: getOk(bus, 'test'),
      spread: () => getOk(bus, spread[i++ % SPREAD])(),
    },
    IN_FLIGHT,
    durationMs,
  );
  o.details[`${key}.pipelined`] = { inFlight: IN_FLIGHT, ...t };
  for (const [k, v] of Object.entries(t))
    if (v.failures) o.problems.push(`${label} pipelined ${k}: ${v.failures} failed requests (${v.firstError})`);
  const target = { of: 'ratio' as const, op: '>=' as const, value: 0.5 };
  const echoLabel = `echo, ${IN_FLIGHT} in flight`;
  return [
    measured(
      `${key}.get.pipelined1`,
      `${label} domain.get ${IN_FLIGHT} in flight, 1 domain`,
      'req/s',
      t.one.perS,
      t.echo.perS,
      echoLabel,
      target,
    ),
    measured(
      `${key}.get.pipelined100`,
      `${label} domain.get ${IN_FLIGHT} in flight, ${SPREAD} domains`,
      'req/s',
      t.spread.perS,
      t.echo.perS,
      echoLabel,
      target,
    ),
  ];
}

/** A test-driver node with 'test' and b0..b99, for an agent process and the bench's own baseline. */
function benchNode(cleanup: Cleanup): string {
  return writeTestNode(tempDir('node101', cleanup), ['test', ...domainNames(SPREAD, 'b')]);
}

export async function runAmqpRequests(o: BenchOptions): Promise<Row[]> {
  return withCleanup(o.problems, async (cleanup) => {
    const { sequential, pipelinedMs } = sizes(o);
    const uri = benchNode(cleanup);
    const agent = spawnAgent(
      { label: 'amqp', bus: o.amqpUrl, libvirtUri: uri, prefetch: IN_FLIGHT, problems: o.problems },
      cleanup,
    );
    const bus = await amqpBus(o, agent, cleanup);
    const getInfo = await nativeGetInfo(uri, 'test', cleanup);
    o.log(`AMQP: sequential domain.get ×${sequential}`);
    const rows = await sequentialRows('amqp', 'AMQP', bus, getInfo, 'test', sequential, o);
    o.log(`AMQP: pipelined domain.get, ${IN_FLIGHT} in flight`);
    rows.push(...(await pipelinedRows('amqp', 'AMQP', bus, pipelinedMs, o)));
    o.details['amqp.agentArgs'] = agent.args;
    return rows;
  });
}

export async function runMqttRequests(o: BenchOptions): Promise<Row[]> {
  return withCleanup(o.problems, async (cleanup) => {
    const { sequential, pipelinedMs } = sizes(o);
    const broker = await startMosquitto(cleanup);
    const uri = benchNode(cleanup);
    const agent = spawnAgent(
      { label: 'mqtt', bus: broker.url, libvirtUri: uri, prefetch: IN_FLIGHT, mqttVersion: 5, problems: o.problems },
      cleanup,
    );
    const bus = await mqttBus(broker.url, agent, cleanup);
    const getInfo = await nativeGetInfo(uri, 'test', cleanup);
    o.log(`MQTT 5: sequential domain.get ×${sequential} (private Mosquitto ${broker.url})`);
    const rows = await sequentialRows('mqtt', 'MQTT 5', bus, getInfo, 'test', sequential, o);
    o.log(`MQTT 5: pipelined domain.get, ${IN_FLIGHT} in flight`);
    rows.push(...(await pipelinedRows('mqtt', 'MQTT 5', bus, pipelinedMs, o)));
    o.details['mqtt.agentArgs'] = agent.args;
    return rows;
  });
}

export const LAB_URI = process.env.VIRTBUS_BENCH_LAB_URI ?? 'qemu:///system';

/** A domain of the lab to measure (not one of `gone`), or why there is none. */
const virsh = (...args: string[]) => promisify(execFile)('virsh', ['-c', LAB_URI, ...args], { timeout: 15_000 });

/**
 * The bench's own guest on the lab: defined (never started) for this run and
 * undefined after it, so the rows need nobody else's guest and leave the lab
 * as they found it. VIRTBUS_BENCH_LAB_DOMAIN names one to use instead.
 */
async function labDomain(cleanup: Cleanup): Promise<{ domain?: string; skip?: string }> {
  try {
    await virsh('version');
  } catch {
    return { skip: 'lab not up (bash deploy/lab/lab.sh up)' };
  }
  const chosen = process.env.VIRTBUS_BENCH_LAB_DOMAIN;
  if (chosen) return { domain: chosen };
  const name = `virtbus-bench-${process.pid}`;
  const xml = join(tempDir('lab-domain', cleanup), 'domain.xml');
  writeFileSync(
    xml,
    `<domain type='qemu'><name>${name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>` +
      `<os><type arch='x86_64'>hvm</type></os></domain>\n`,
  );
  await virsh('define', xml);
  cleanup.add(`undefine ${name} on ${LAB_URI}`, async () => {
    await virsh('undefine', name);
  });
  return { domain: name };
}

export async function runLabRequests(o: BenchOptions): Promise<Row[]> {
  return withCleanup(o.problems, async (cleanup) => {
    const lab = await labDomain(cleanup);
    if (!lab.domain) {
      const why = lab.skip!;
      return [
        skipped('lab.get.p50', 'lab domain.get sequential p50', why),
        skipped('lab.get.p99', 'lab domain.get sequential p99', why),
      ];
    }
    return labRows(o, lab.domain, cleanup);
  });
}

async function labRows(o: BenchOptions, domain: string, cleanup: Cleanup): Promise<Row[]> {
  {
    // read-only: the bench only reads
    const agent = spawnAgent(
      { label: 'lab', bus: o.amqpUrl, libvirtUri: LAB_URI, readOnly: true, problems: o.problems },
      cleanup,
    );
    const bus = await amqpBus(o, agent, cleanup);
    const getInfo = await nativeGetInfo(LAB_URI, domain, cleanup, true);
    const n = sizes(o).sequential;
    o.log(`lab: sequential domain.get ${domain} ×${n} through ${LAB_URI}`);
    o.details['lab.domain'] = domain;
    return sequentialRows('lab', 'lab', bus, getInfo, domain, n, o);
  }
}
