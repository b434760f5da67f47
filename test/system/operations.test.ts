// What an operator sees of a real agent process: /metrics scraped while it
// runs commands, publishes events and runs a job (counters move as they
// should, `promtool check metrics` accepts the scrape); /readyz turning 503
// when the broker or libvirtd goes and 200 when they are back; systemd's
// notify datagrams on a real AF_UNIX socket; W3C trace context carried
// from a command into its reply, its job's events and its completion event,
// and into the log; periodic domain statistics on the bus.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestClient, deleteNodeQueues, AMQP_URL } from '../helpers/amqp-client';
import { spawnAgent, spawnTestDriverAgent, removeAgentState, type AgentProcess } from '../helpers/agent-process';
import { testNode } from '../helpers/agent';
import { eventually } from '../helpers/events';
import { NODE2_URI, LAB_DIR, lab, openNode } from '../helpers/lab';
import { PrivateBroker } from '../helpers/private-brokers';
import { validator } from '../../src/contract/validate';
import { DomainStatsEventData } from '../../src/contract/events';
import { metricValue } from '../helpers/metrics';
import { NotifySocket } from '../helpers/notify-socket';
import { MOSQUITTO_V5, TestMqttClient, commandEnvelope, forgetAgent, mqttNodeId } from '../helpers/mqtt';

const PARENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = `00-${PARENT_TRACE}-00f067aa0ba902b7-01`;

/** The agent's listener URL, from its start log. */
async function metricsUrl(agent: AgentProcess): Promise<string> {
  const l = await agent.waitLog('serving /metrics, /healthz, /readyz', 0, 10_000);
  return String(l.url);
}

async function scrape(url: string): Promise<string> {
  const r = await fetch(`${url}/metrics`);
  expect(r.status).toBe(200);
  return r.text();
}

describe('an agent on RabbitMQ and the test driver', () => {
  const node = testNode('ops');
  let agent: AgentProcess;
  let client: TestClient;
  let notify: NotifySocket;
  let url: string;

  beforeAll(async () => {
    notify = await NotifySocket.open();
    client = await TestClient.connect();
    agent = await spawnTestDriverAgent(
      node,
      ['--metrics-listen', '127.0.0.1:0', '--stats-interval', '1', '--drain', '5', '--job-progress-ms', '100'],
      { NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: '400000', VIRTBUS_LOG_FORMAT: 'json' },
    );
    url = await metricsUrl(agent);
    // the agent declared the exchange
    await client.bindEvents(`v1.${node}.#`);
  });

  afterAll(async () => {
    await agent?.kill();
    await client?.close();
    await notify?.close();
    await deleteNodeQueues(node);
    removeAgentState(node);
  });

  test('systemd hears READY=1 once it is ready, then WATCHDOG=1 at half the watchdog interval', async () => {
    await notify.waitFor('READY', '1', 10_000);
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 1500));
    const dogs = notify.messages.filter((m) => m.t >= t0 && m.fields.WATCHDOG === '1');
    // every 200 ms: about 7 in 1.5 s (timers on a busy machine may slip)
    expect(dogs.length).toBeGreaterThanOrEqual(4);
    expect(dogs.length).toBeLessThanOrEqual(10);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, bus: true, libvirt: true, snapshot: true, consuming: true });
  });

  test('commands, outcomes, events and libvirt calls move their metrics; the scrape passes promtool', async () => {
    const before = await scrape(url);
    expect(await client.call(node, 'domain.suspend', { domain: 'test' })).toMatchObject({ data: { ok: true } });
    expect(await client.call(node, 'domain.resume', { domain: 'test' })).toMatchObject({ data: { ok: true } });
    expect(await client.call(node, 'domain.get', { domain: 'no-such-vm' })).toMatchObject({
      data: { ok: false, error: { code: 'NOT_FOUND' } },
    });
    // a caller cannot make new series: an unknown command is counted as `unknown`
    const odd = `x${randomUUID()}`;
    expect(await client.call(node, odd)).toMatchObject({ data: { ok: false, error: { code: 'UNKNOWN_COMMAND' } } });
    await client.waitFor((m) => m.body?.data?.event === 'resumed', 'the resumed event');
    let after = '';
    await eventually(
      async () => {
        after = await scrape(url);
        return metricValue(after, 'virtbus_events_published_total', { object: 'domain', event: 'lifecycle' }) >= 2;
      },
      'lifecycle events counted',
      10_000,
    );
    const delta = (name: string, labels: Record<string, string>) =>
      metricValue(after, name, labels) - metricValue(before, name, labels);
    expect(delta('virtbus_commands_total', { command: 'domain.suspend', code: 'OK' })).toBe(1);
    expect(delta('virtbus_commands_total', { command: 'domain.resume', code: 'OK' })).toBe(1);
    expect(delta('virtbus_commands_total', { command: 'domain.get', code: 'NOT_FOUND' })).toBe(1);
    expect(delta('virtbus_commands_total', { command: 'unknown', code: 'UNKNOWN_COMMAND' })).toBe(1);
    expect(after).not.toContain(odd);
    expect(delta('virtbus_command_duration_seconds_count', { command: 'domain.suspend' })).toBe(1);
    expect(metricValue(after, 'virtbus_command_duration_seconds_sum', { command: 'domain.suspend' })).toBeGreaterThan(
      0,
    );
    expect(metricValue(after, 'virtbus_commands_in_flight')).toBe(0);
    // suspend and resume: each one hop to libvirt's worker (lookup and operation)
    expect(delta('virtbus_libvirt_call_duration_seconds_count', { api: 'domainLookupOperate' })).toBe(2);
    expect(metricValue(after, 'virtbus_bus_connected')).toBe(1);
    expect(metricValue(after, 'virtbus_libvirt_connected')).toBe(1);
    expect(metricValue(after, 'virtbus_ready')).toBe(1);
    expect(metricValue(after, 'virtbus_publish_failures_total', { reason: 'event' })).toBe(0);
    expect(after).toMatch(/^virtbus_build_info\{version="[^"]+",nodejs="[^"]+"\} 1$/m);
    expect(after).toMatch(/^process_resident_memory_bytes \d+/m);
    // the guests, from the bulk call: the test driver's one domain
    expect(after).toMatch(/^virtbus_guest_\w+\{[^}]*domain="test"/m);
    expect(after).not.toMatch(/^nodejs_active_\w+_total/m);
    // promtool reads a real scrape and finds nothing to object to
    let out = '';
    try {
      out = execFileSync('promtool', ['check', 'metrics'], { input: after, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      const err = e as { status?: number; stdout?: string; stderr?: string; code?: string };
      if (err.code === 'ENOENT') throw new Error('promtool is missing: run `bash scripts/promtool.sh` (npm test does)');
      throw new Error(`promtool check metrics failed (${err.status}): ${err.stdout}${err.stderr}`);
    }
    expect(out.trim()).toBe('');
  });

  test('a traceparent in the envelope or in an AMQP header comes back in the reply with the same trace id, and is logged', async () => {
    const send = (
      command: string,
      attrs: Record<string, unknown>,
      headers: Record<string, unknown> = {},
      reply = true,
    ) => {
      const id = randomUUID();
      const env = {
        specversion: '1.0',
        id,
        source: 'ops-test',
        type: `virtbus.cmd.${command}`,
        data: { domain: 'test' },
        ...attrs,
      };
      client.send(node, JSON.stringify(env), {
        messageId: id,
        correlationId: id,
        headers,
        ...(reply && { replyTo: client.replyQueue }),
      });
      return id;
    };
    const inEnvelope = send('domain.get', { traceparent: PARENT, tracestate: 'vendor=abc' });
    const r1 = (await client.replyTo(inEnvelope, 'reply with the envelope trace')).body;
    expect(r1.traceparent).toMatch(new RegExp(`^00-${PARENT_TRACE}-[0-9a-f]{16}-01$`));
    expect(r1.traceparent).not.toBe(PARENT); // the agent's own span
    expect(r1.tracestate).toBe('vendor=abc');

    const inHeader = send('domain.get', {}, { traceparent: PARENT });
    expect((await client.replyTo(inHeader, 'reply with the header trace')).body.traceparent).toMatch(
      new RegExp(`^00-${PARENT_TRACE}-`),
    );

    const none = send('domain.get', {});
    const fresh = (await client.replyTo(none, 'reply with a fresh trace')).body.traceparent as string;
    expect(fresh).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(fresh).not.toContain(PARENT_TRACE);

    // a malformed one is ignored, not refused
    const bad = send('domain.get', { traceparent: 'nonsense\n{"level":60}' });
    const rb = (await client.replyTo(bad, 'reply to a malformed trace')).body;
    expect(rb.data.ok).toBe(true);
    expect(rb.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    // no reply_to: the completion event carries it
    const noReply = send('domain.get', { traceparent: PARENT }, {}, false);
    const completed = await client.waitFor(
      (m) => m.body?.type === 'virtbus.event.command.completed' && m.body.data?.id === noReply,
      'the completion event',
    );
    expect(completed.body.traceparent).toMatch(new RegExp(`^00-${PARENT_TRACE}-`));

    const logged = (id: string) => agent.logs.find((l) => l.msg === 'command' && l.id === id)?.trace_id;
    await eventually(async () => logged(noReply) !== undefined, 'the command log lines', 5000);
    expect(logged(inEnvelope)).toBe(PARENT_TRACE);
    expect(logged(inHeader)).toBe(PARENT_TRACE);
    expect(logged(none)).toBe(fresh.split('-')[1]);
    expect(logged(noReply)).toBe(PARENT_TRACE);
  });

  test("a job's events and its final reply carry its command's trace", async () => {
    const id = randomUUID();
    const env = {
      specversion: '1.0',
      id,
      source: 'ops-test',
      type: 'virtbus.cmd.domain.save',
      data: { domain: 'test', path: 'ops.img' },
      traceparent: PARENT,
    };
    client.send(node, JSON.stringify(env), { messageId: id, correlationId: id, replyTo: client.replyQueue });
    const reply = (await client.replyTo(id, 'the job reply', 60_000)).body;
    expect(reply.data).toMatchObject({ ok: true });
    expect(reply.traceparent).toMatch(new RegExp(`^00-${PARENT_TRACE}-`));
    const jobEvents = client.received.filter(
      (m) => m.body?.type?.startsWith('virtbus.event.job.') && m.body.data?.id === id,
    );
    expect(jobEvents.map((m) => m.body.type)).toEqual(
      expect.arrayContaining(['virtbus.event.job.started', 'virtbus.event.job.completed']),
    );
    for (const e of jobEvents) expect(e.body.traceparent).toBe(reply.traceparent);
    await eventually(
      async () => agent.logs.some((l) => l.msg === 'job replied' && l.id === id && l.trace_id === PARENT_TRACE),
      'the job replied log line with its trace id',
      5000,
    );
    // put the domain back for the other tests
    expect(await client.call(node, 'domain.restore', { path: 'ops.img' }, { timeoutMs: 60_000 })).toMatchObject({
      data: { ok: true },
    });
  });

  test('domain statistics every --stats-interval seconds, valid by the contract, without seq', async () => {
    const from = client.received.length;
    const first = await client.waitFor(
      (m) => m.body?.type === 'virtbus.event.domain.stats',
      'a stats event',
      5000,
      from,
    );
    expect(first.routingKey).toBe(`v1.${node}.domain.${first.body.data.domain.uuid}.stats`);
    expect(first.body.data.domain.name).toBe('test');
    expect(validator(DomainStatsEventData)(first.body.data)).toBeUndefined();
    expect(first.body.data.seq).toBeUndefined();
    expect(first.body.data.stats).toEqual(expect.objectContaining({ 'state.state': expect.any(Number) }));
    const second = await client.waitFor(
      (m) => m.body?.type === 'virtbus.event.domain.stats' && m.body.id !== first.body.id,
      'the next round',
      5000,
      client.received.indexOf(first) + 1,
    );
    const gapMs = Date.parse(second.body.data.at) - Date.parse(first.body.data.at);
    expect(gapMs).toBeGreaterThan(500);
    expect(gapMs).toBeLessThan(3000);
  });

  test('SIGTERM: systemd hears STOPPING=1, the agent exits 0', async () => {
    const before = notify.messages.length;
    expect(await agent.stop()).toBe(0);
    expect(notify.messages.slice(before).some((m) => m.fields.STOPPING === '1')).toBe(true);
  });
});

/** Polls /readyz every 50 ms, keeping each status with its time. */
function watchReadyz(url: string): { seen: Array<{ at: number; status: number }>; stop: () => void } {
  const seen: Array<{ at: number; status: number }> = [];
  let on = true;
  void (async () => {
    while (on) {
      const status = await fetch(`${url}/readyz`).then(
        (r) => r.status,
        () => 0,
      );
      seen.push({ at: Date.now(), status });
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return { seen, stop: () => (on = false) };
}

test('readyz: 503 within seconds of losing the broker, 200 again after it is back', async () => {
  const broker = await PrivateBroker.up('mosquitto', 'ops-readyz');
  const node = testNode('opsrz');
  let agent: AgentProcess | undefined;
  let watch: ReturnType<typeof watchReadyz> | undefined;
  try {
    agent = await spawnAgent([
      '--node-id',
      node,
      '--bus',
      broker.url,
      '--libvirt-uri',
      'test:///default',
      '--metrics-listen',
      '127.0.0.1:0',
      '--drain',
      '3',
    ]);
    const url = await metricsUrl(agent);
    watch = watchReadyz(url);
    await eventually(async () => watch!.seen.at(-1)?.status === 200, 'readyz 200', 10_000);
    await broker.stop();
    const lostAt = Date.now();
    await eventually(
      async () => watch!.seen.some((s) => s.at >= lostAt && s.status === 503),
      'readyz 503 after the broker stopped',
      5000,
    );
    const body = await (await fetch(`${url}/readyz`)).json();
    expect(body).toMatchObject({ ready: false, bus: false, libvirt: true });
    expect((await fetch(`${url}/healthz`)).status).toBe(200); // alive all the same
    const metrics = await scrape(url);
    expect(metricValue(metrics, 'virtbus_bus_connected')).toBe(0);
    const { upAt } = await broker.start();
    await eventually(
      async () => watch!.seen.some((s) => s.at >= upAt && s.status === 200),
      'readyz 200 after the broker is back',
      20_000,
    );
    expect(metricValue(await scrape(url), 'virtbus_bus_reconnects_total')).toBeGreaterThanOrEqual(1);
  } finally {
    watch?.stop();
    await agent?.kill();
    await broker.down();
    removeAgentState(node);
  }
});

test('readyz: 503 while libvirtd is gone, 200 once the agent reconnected and published its snapshot', async () => {
  (await openNode(NODE2_URI)).close();
  const node = testNode('opsrl');
  let agent: AgentProcess | undefined;
  let watch: ReturnType<typeof watchReadyz> | undefined;
  try {
    agent = await spawnAgent([
      '--node-id',
      node,
      '--bus',
      AMQP_URL,
      '--libvirt-uri',
      NODE2_URI,
      '--metrics-listen',
      '127.0.0.1:0',
      '--drain',
      '3',
      '--heartbeat',
      '0',
    ]);
    const url = await metricsUrl(agent);
    watch = watchReadyz(url);
    await eventually(async () => watch!.seen.at(-1)?.status === 200, 'readyz 200', 10_000);
    const pid = Number(readFileSync(join(LAB_DIR, 'node2', 'libvirtd.pid'), 'utf8').trim());
    process.kill(pid, 'SIGKILL');
    const lostAt = Date.now();
    await eventually(
      async () => watch!.seen.some((s) => s.at >= lostAt && s.status === 503),
      'readyz 503 after libvirtd died',
      10_000,
    );
    expect(await (await fetch(`${url}/readyz`)).json()).toMatchObject({ ready: false, libvirt: false, bus: true });
    lab('restart-node2');
    const backAt = Date.now();
    await eventually(
      async () => watch!.seen.some((s) => s.at >= backAt && s.status === 200),
      'readyz 200 after libvirtd is back',
      30_000,
    );
    await agent.waitLog('libvirt reconnected', lostAt, 5000);
  } finally {
    watch?.stop();
    await agent?.kill();
    // the lab's node 2 stays usable for the next suites whatever happened here
    await openNode(NODE2_URI).then(
      (c) => c.close(),
      () => lab('restart-node2'),
    );
    await deleteNodeQueues(node);
    removeAgentState(node);
  }
});

test('MQTT 5: a traceparent user property comes back on the reply with the same trace id', async () => {
  const node = mqttNodeId('opstr');
  const url = await MOSQUITTO_V5.setup();
  const client = await TestMqttClient.connect(url, 5);
  let agent: AgentProcess | undefined;
  try {
    agent = await spawnAgent([
      '--node-id',
      node,
      '--bus',
      url,
      '--libvirt-uri',
      'test:///default',
      '--heartbeat',
      '0',
      '--drain',
      '3',
    ]);
    const replyTopic = `virtbus/reply/ops-${randomUUID()}`;
    await client.subscribe(replyTopic);
    const env = commandEnvelope('domain.get', { domain: 'test' });
    await client.publish(`virtbus/v1/${node}/cmd`, JSON.stringify(env), {
      properties: {
        contentType: 'application/cloudevents+json',
        responseTopic: replyTopic,
        correlationData: Buffer.from(String(env.id)),
        userProperties: { traceparent: PARENT, tracestate: 'vendor=mqtt' },
      },
    });
    const reply = await client.waitFor((m) => m.topic === replyTopic, 'the MQTT reply');
    // binary mode: the attributes are user properties; structured: in the body
    const props = (reply.packet.properties?.userProperties ?? {}) as Record<string, string>;
    const attrs = props.specversion ? props : reply.json();
    expect(attrs.traceparent).toMatch(new RegExp(`^00-${PARENT_TRACE}-[0-9a-f]{16}-01$`));
    expect(attrs.tracestate).toBe('vendor=mqtt');
    await eventually(
      async () => agent!.logs.some((l) => l.msg === 'command' && l.id === env.id && l.trace_id === PARENT_TRACE),
      'the command log line with the trace id',
      5000,
    );
  } finally {
    await agent?.kill();
    await client.close();
    await forgetAgent(url, 5, node);
    removeAgentState(node);
  }
});
