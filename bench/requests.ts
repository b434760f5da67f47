// Rows 1–3: domain.get through the agent (in its own process) next to a bare
// echo on the same broker plus the bare libvirt call, measured in the same
// run — over RabbitMQ (AMQP 0-9-1), over a private Mosquitto (MQTT 5), and
// against the lab's real libvirtd when it is up.
import { execFile } from 'node:child_process';
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
import { startResponder } from './lib/responder-process';
import { summarize } from './lib/stats';
import { domainNames, writeTestNode } from './lib/test-node-xml';
import { tempDir } from './lib/tmp';
import type { BenchOptions } from './options';

const IN_FLIGHT = 64;
/** the agent's MQTT Receive Maximum (src/bus/mqtt/options.ts): the echo gets the same */
const MQTT_RECEIVE_MAXIMUM = 16;
const SPREAD = 100;

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
  const ms = await sequentialRounds({ echo: bus.echo, getInfo, agent: getOk(bus, domain) }, n);
  const echo = summarize(ms.echo);
  const info = summarize(ms.getInfo);
  const agent = summarize(ms.agent);
  o.details[`${key}.sequential`] = { n, echo, getInfo: info, agent };
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
async function labDomain(gone: string[]): Promise<{ domain?: string; skip?: string }> {
  try {
    const { stdout } = await promisify(execFile)('virsh', ['-c', LAB_URI, 'list', '--all', '--name'], {
      timeout: 15_000,
    });
    const names = stdout
      .split('\n')
      .map((s) => s.trim())
      .filter((s) => s && !gone.includes(s));
    const chosen = process.env.VIRTBUS_BENCH_LAB_DOMAIN;
    if (chosen) return names.includes(chosen) ? { domain: chosen } : { skip: `no domain '${chosen}' on ${LAB_URI}` };
    if (names.length) return { domain: names[0] };
    return {
      skip: gone.length
        ? `the lab's domains (${gone.join(', ')}) went away during the run`
        : `no domain on ${LAB_URI} (virsh list --all is empty)`,
    };
  } catch {
    return {
      skip: gone.length
        ? `the lab went down during the run (${LAB_URI} no longer answers)`
        : 'lab not up (bash deploy/lab/lab.sh up)',
    };
  }
}

async function stillThere(domain: string): Promise<boolean> {
  try {
    await promisify(execFile)('virsh', ['-c', LAB_URI, 'domstate', domain], { timeout: 15_000 });
    return true;
  } catch {
    return false;
  }
}

export async function runLabRequests(o: BenchOptions): Promise<Row[]> {
  const figure = (p: string) => `lab domain.get sequential ${p}`;
  const skip = (why: string) => [
    skipped('lab.get.p50', figure('p50'), why),
    skipped('lab.get.p99', figure('p99'), why),
  ];
  // The lab's guests belong to whoever runs tests there (a CI run creates,
  // migrates and removes them): one may go away mid-run; then another is tried.
  const gone: string[] = [];
  for (;;) {
    const lab = await labDomain(gone);
    if (!lab.domain) return skip(lab.skip!);
    try {
      return await labRows(o, lab.domain);
    } catch (e) {
      const msg = (e as Error).message;
      if (!/NOT_FOUND|VIR_ERR_NO_DOMAIN/.test(msg) && (await stillThere(lab.domain))) throw e;
      o.log(`lab: domain ${lab.domain} went away during the run`);
      gone.push(lab.domain);
      if (gone.length >= 3)
        return skip(
          `the lab's guests kept going away (${gone.join(', ')}): another run uses the lab; VIRTBUS_BENCH_LAB_DOMAIN picks one`,
        );
    }
  }
}

async function labRows(o: BenchOptions, domain: string): Promise<Row[]> {
  return withCleanup(o.problems, async (cleanup) => {
    // read-only: the bench only reads, and leaves the lab's guests alone
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
  });
}
