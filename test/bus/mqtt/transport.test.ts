// MqttTransport against real brokers: Mosquitto (MQTT 5 and 3.1.1),
// RabbitMQ's MQTT plugin (3.1.1) and aedes (3.1.1). A plain mqtt.js client
// plays the orchestrator / event consumer; a TCP proxy plays the network
// that fails. No mocks: every claim here is about broker behaviour.
import { EventEmitter, once } from 'node:events';
import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import { MqttTransport, type MqttTransportOptions } from '../../../src/bus/mqtt';
import type { Delivery } from '../../../src/bus/transport';
import { EventLog } from '../../helpers/events';
import {
  BROKERS,
  TcpProxy,
  TestMqttClient,
  clearRetained,
  commandEnvelope,
  forgetSession,
  mqttNodeId,
  type BrokerCase,
} from '../../helpers/mqtt';

const CE_JSON = 'application/cloudevents+json';

describe.each(BROKERS.map((b) => [b.name, b] as [string, BrokerCase]))('MqttTransport on %s', (_name, broker) => {
  const v = broker.protocolVersion;
  let url: string;
  let client: TestMqttClient;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    url = await broker.setup();
    client = await TestMqttClient.connect(url, v);
  });

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  afterAll(async () => {
    await client?.close();
    await broker.teardown();
  });

  /** A started transport on a fresh node; closed, its session and presence removed after the test. */
  async function startAgent(
    o: Partial<MqttTransportOptions> & {
      node?: string;
      onDelivery?: (d: Delivery) => void;
      beforeConsume?: () => Promise<void>;
    } = {},
  ) {
    const node = o.node ?? mqttNodeId(`mqtt${v}`);
    const em = new EventEmitter();
    const deliveries = new EventLog<Delivery>(em);
    const t = new MqttTransport({
      endpoint: url,
      nodeId: node,
      protocolVersion: v,
      backoff: { initialMs: 50, maxMs: 300 },
      sessionExpiryS: 120,
      ...o,
    });
    const warnings: unknown[] = [];
    t.on('warning', (m, d) => warnings.push([m, d]));
    cleanups.push(async () => {
      await t.close();
      await forgetSession(url, v, t.clientId);
      await clearRetained(url, v, t.statusTopic);
    });
    await t.start({
      beforeConsume: o.beforeConsume ?? (async () => undefined),
      onDelivery:
        o.onDelivery ??
        ((d) => {
          em.emit('event', d);
        }),
    });
    return { t, node, deliveries, warnings };
  }

  /** An orchestrator's command to a topic; MQTT 5 adds the response topic and correlation data. */
  async function sendCommand(
    topic: string,
    env: Record<string, unknown>,
    reply?: { topic: string; correlation: string },
  ): Promise<void> {
    const props =
      v === 5
        ? {
            properties: {
              contentType: CE_JSON,
              ...(reply && { responseTopic: reply.topic, correlationData: Buffer.from(reply.correlation) }),
            },
          }
        : {};
    await client.publish(topic, JSON.stringify(env), props);
  }

  test('a command reaches onDelivery and the reply reaches the caller', async () => {
    const { t, node, deliveries } = await startAgent();
    const replyTopic = `test/${randomUUID()}/reply`;
    await client.subscribe(replyTopic);
    const correlation = `corr-${randomUUID()}`;
    const env = commandEnvelope('agent.ping', {}, v === 4 ? { replyto: replyTopic, correlationid: correlation } : {});
    await sendCommand(`virtbus/v1/${node}/cmd`, env, { topic: replyTopic, correlation });

    const d = await deliveries.waitFor((x) => JSON.parse(x.message.body.toString()).id === env.id, 'the command');
    expect(d.message.origin).toBe('node');
    expect(d.message.redelivered).toBe(false);
    const to = v === 5 ? d.message.replyTo! : (JSON.parse(d.message.body.toString()).replyto as string);
    if (v === 5) {
      expect(d.message).toMatchObject({ replyTo: replyTopic, correlationId: correlation, contentType: CE_JSON });
    } else {
      // 3.1.1 has no properties: the agent reads replyto/correlationid from the envelope.
      expect(d.message.replyTo).toBeUndefined();
      expect(d.message.correlationId).toBeUndefined();
    }

    const reply = {
      specversion: '1.0',
      id: randomUUID(),
      source: `virtbus://${node}`,
      type: 'virtbus.reply',
      datacontenttype: 'application/json',
      data: { ok: true, result: { pong: true } },
      ...(v === 4 && { correlationid: correlation }),
    };
    await t.publishReply({
      to,
      correlationId: correlation,
      body: Buffer.from(JSON.stringify(reply)),
      contentType: CE_JSON,
    });
    d.ack();

    const r = await client.waitFor((m) => m.topic === replyTopic, 'the reply');
    if (v === 5) {
      expect(r.packet.properties?.correlationData?.toString()).toBe(correlation);
      // Binary mode: the payload is the data; the attributes are user properties.
      expect(r.json()).toEqual({ ok: true, result: { pong: true } });
      expect(r.packet.properties?.userProperties).toMatchObject({ type: 'virtbus.reply', id: reply.id });
    } else {
      expect(r.json()).toMatchObject({ type: 'virtbus.reply', correlationid: correlation, data: { ok: true } });
    }
  });

  test('events go to virtbus/v1/<node>/<object>/<id>/<event>, with topic syntax in id/event escaped', async () => {
    const { t, node } = await startAgent();
    await client.subscribe(`virtbus/v1/${node}/+/+/+`);
    const uuid = randomUUID();
    const ev = (id: string, event: string) => ({
      object: 'domain',
      id,
      event,
      contentType: CE_JSON,
      messageId: randomUUID(),
      body: Buffer.from(
        JSON.stringify({
          specversion: '1.0',
          id: randomUUID(),
          source: `virtbus://${node}`,
          type: 'virtbus.event.domain.lifecycle',
          subject: id,
          data: { id },
        }),
      ),
    });
    await t.publishEvent(ev(uuid, 'lifecycle'));
    await t.publishEvent(ev('/pools/a+b#1', 'x/y'));
    const m1 = await client.waitFor(
      (m) => m.topic === `virtbus/v1/${node}/domain/${uuid}/lifecycle`,
      'the lifecycle event',
    );
    const data = v === 5 ? m1.json() : m1.json().data;
    expect(data).toEqual({ id: uuid });
    const m2 = await client.waitFor(
      (m) => m.topic === `virtbus/v1/${node}/domain/%2Fpools%2Fa%2Bb%231/x%2Fy`,
      'the escaped event',
    );
    expect(v === 5 ? m2.json() : m2.json().data).toEqual({ id: '/pools/a+b#1' });
  });

  test('fleet-wide commands on virtbus/v1/all/cmd arrive with origin broadcast', async () => {
    const { deliveries } = await startAgent();
    const env = commandEnvelope('agent.ping');
    await sendCommand('virtbus/v1/all/cmd', env);
    const d = await deliveries.waitFor(
      (x) => JSON.parse(x.message.body.toString()).id === env.id,
      'the broadcast command',
    );
    expect(d.message.origin).toBe('broadcast');
    d.ack();
  });

  test('presence: retained online after start, retained offline after close', async () => {
    const { t, node } = await startAgent();
    const watcher = await TestMqttClient.connect(url, v);
    try {
      await watcher.subscribe(`virtbus/v1/${node}/status`);
      const online = await watcher.waitFor((m) => m.payload.length > 0, 'the retained online status');
      expect(online.packet.retain).toBe(true);
      expect(online.json()).toEqual({ status: 'online', node });
      await t.close();
    } finally {
      await watcher.close();
    }
    // A subscriber arriving later still learns it: the offline status is retained.
    const late = await TestMqttClient.connect(url, v);
    try {
      await late.subscribe(`virtbus/v1/${node}/status`);
      const offline = await late.waitFor((m) => m.payload.length > 0, 'the retained offline status');
      expect(offline.json()).toEqual({ status: 'offline', node });
    } finally {
      await late.close();
    }
    await expect(
      t.publishEvent({
        object: 'x',
        id: 'y',
        event: 'z',
        body: Buffer.from('{}'),
        contentType: 'application/json',
        messageId: 'm',
      }),
    ).rejects.toThrow('MQTT transport closed');
  });

  test('persistent session: a command sent while the connection is down arrives once after the reconnect', async () => {
    const proxy = await TcpProxy.start(url);
    cleanups.push(() => proxy.close());
    const node = mqttNodeId(`mqtt${v}`);
    const em = new EventEmitter();
    const deliveries = new EventLog<Delivery>(em);
    const order: string[] = [];
    const { t } = await startAgent({
      node,
      endpoint: proxy.url,
      // Slow on purpose: the commands the session kept arrive meanwhile and must wait.
      beforeConsume: async () => {
        order.push('beforeConsume');
        await sleep(order.length > 1 ? 300 : 0);
        order.push('beforeConsume done');
      },
      onDelivery: (d) => {
        order.push('delivery');
        em.emit('event', d);
      },
    });
    const lifecycle: string[] = [];
    t.on('disconnected', () => lifecycle.push('disconnected'));
    t.on('connected', (i) => lifecycle.push(`connected reconnect=${i.reconnect}`));

    proxy.cut({ block: true });
    await waitUntil(() => !t.connected, 'the transport to notice the cut');
    const env = commandEnvelope('agent.ping');
    await sendCommand(`virtbus/v1/${node}/cmd`, env);
    // The publish is queued too and goes out once the connection is back.
    const published = t.publishEvent({
      object: 'node',
      id: node,
      event: 'test',
      body: Buffer.from('{}'),
      contentType: 'application/json',
      messageId: 'e1',
    });
    await sleep(300);
    expect(deliveries.all).toHaveLength(0);

    order.length = 0;
    order.push('reconnecting');
    proxy.unblock();
    const d = await deliveries.waitFor(
      (x) => JSON.parse(x.message.body.toString()).id === env.id,
      'the command queued in the session',
    );
    d.ack();
    await published;
    expect(t.sessionPresent).toBe(true);
    // Queued commands may arrive right after CONNACK; they wait for beforeConsume.
    expect(order).toEqual(['reconnecting', 'beforeConsume', 'beforeConsume done', 'delivery']);
    expect(lifecycle).toEqual(['disconnected', 'connected reconnect=true']);
    await sleep(500);
    expect(deliveries.all.filter((x) => JSON.parse(x.message.body.toString()).id === env.id)).toHaveLength(1);
  });

  test('PUBACK waits for ack(), per command: an unacked one is delivered again after the connection died', async () => {
    const proxy = await TcpProxy.start(url);
    cleanups.push(() => proxy.close());
    const { t, node, deliveries } = await startAgent({ endpoint: proxy.url });
    const idOf = (d: Delivery) => JSON.parse(d.message.body.toString()).id as string;
    const [a, b] = [commandEnvelope('agent.ping'), commandEnvelope('agent.ping')];
    await sendCommand(`virtbus/v1/${node}/cmd`, a);
    await sendCommand(`virtbus/v1/${node}/cmd`, b);
    const firstA = await deliveries.waitFor((d) => idOf(d) === a.id, 'command A');
    const firstB = await deliveries.waitFor((d) => idOf(d) === b.id, 'command B');
    expect(firstA.message.redelivered).toBe(false);
    // Out of order: B (a quick command) is done while A (a migration, say) still runs.
    firstB.ack();
    await pubackReachedBroker(t);

    const mark = deliveries.mark();
    proxy.cut();
    const again = await deliveries.waitFor((d) => idOf(d) === a.id, 'the unacked command A again', 10000, mark);
    expect(again.message.redelivered).toBe(broker.dupOnRedelivery);
    // The first delivery's connection is gone: acking it is a harmless no-op.
    firstA.ack();
    again.ack();
    await pubackReachedBroker(t);
    await sleep(300);
    expect(deliveries.all.slice(mark).map(idOf)).toEqual([a.id]);

    // Acked now: another cut brings nothing back.
    const mark2 = deliveries.mark();
    const reconnected = once(t, 'connected');
    proxy.cut();
    await reconnected;
    await sleep(500);
    expect(deliveries.all.slice(mark2)).toHaveLength(0);
  });

  test('reject() acknowledges and drops the command with a warning', async () => {
    const proxy = await TcpProxy.start(url);
    cleanups.push(() => proxy.close());
    const { node, deliveries, warnings, t } = await startAgent({ endpoint: proxy.url });
    const env = commandEnvelope('agent.ping');
    await sendCommand(`virtbus/v1/${node}/cmd`, env);
    const d = await deliveries.waitFor((x) => JSON.parse(x.message.body.toString()).id === env.id, 'the command');
    d.reject();
    d.ack();
    await pubackReachedBroker(t);
    expect(warnings.map((w) => (w as [string])[0])).toEqual([
      expect.stringContaining('rejected; acknowledged and dropped'),
      expect.stringContaining('settled twice'),
    ]);
    const mark = deliveries.mark();
    const reconnected = once(t, 'connected');
    proxy.cut();
    await reconnected;
    await sleep(500);
    expect(deliveries.all.slice(mark)).toHaveLength(0);
  });

  test('stopConsuming(): nothing more is handed over; a delivery in hand can still be acked', async () => {
    const { t, node, deliveries, warnings } = await startAgent();
    const env = commandEnvelope('agent.ping');
    await sendCommand(`virtbus/v1/${node}/cmd`, env);
    const d = await deliveries.waitFor((x) => JSON.parse(x.message.body.toString()).id === env.id, 'the command');
    await t.stopConsuming();
    d.ack();
    await sendCommand(`virtbus/v1/${node}/cmd`, commandEnvelope('agent.ping'));
    await sendCommand('virtbus/v1/all/cmd', commandEnvelope('agent.ping'));
    await sleep(300);
    expect(deliveries.all).toHaveLength(1);
    expect(warnings).toEqual([]);
  });
});

describe('MqttTransport without a broker', () => {
  test('start() keeps retrying with backoff (connect-failed) until close() ends it; queued publishes are rejected', async () => {
    const port = await freePort();
    const t = new MqttTransport({
      endpoint: `mqtt://127.0.0.1:${port}`,
      nodeId: mqttNodeId('nobroker'),
      backoff: { initialMs: 20, maxMs: 80 },
    });
    const failures: Array<{ attempt: number; delayMs: number }> = [];
    t.on('connect-failed', (_err, info) => failures.push(info));
    const started = t.start({ beforeConsume: async () => undefined, onDelivery: () => undefined });
    const queued = t.publishEvent({
      object: 'o',
      id: 'i',
      event: 'e',
      body: Buffer.from('{}'),
      contentType: 'application/json',
      messageId: 'm',
    });
    await waitUntil(() => failures.length >= 3, 'three failed attempts');
    expect(failures.slice(0, 3).map((f) => f.attempt)).toEqual([1, 2, 3]);
    expect(failures.every((f) => f.delayMs <= 80)).toBe(true);
    expect(t.queuedPublishes).toBe(1);
    await t.close();
    await expect(started).rejects.toThrow('MQTT transport closed');
    await expect(queued).rejects.toThrow('MQTT transport closed');
    await t.close(); // idempotent
  });

  test('a payload over maxMessageBytes is refused before it is queued', async () => {
    const t = new MqttTransport({ endpoint: 'mqtt://127.0.0.1:1', nodeId: mqttNodeId('nobroker'), maxMessageBytes: 8 });
    await expect(
      t.publishEvent({
        object: 'o',
        id: 'i',
        event: 'e',
        body: Buffer.alloc(9),
        contentType: 'application/json',
        messageId: 'm',
      }),
    ).rejects.toThrow('exceeds maxMessageBytes 8');
    await t.close();
  });
});

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * The broker handles a connection's packets in order, so once a later
 * PUBLISH of ours is PUBACKed, the PUBACK sent before it has arrived. (Cut
 * the connection earlier and it may die in transit — which is the point of
 * at-least-once, but not what these tests look at.)
 */
async function pubackReachedBroker(t: MqttTransport): Promise<void> {
  await t.publishEvent({
    object: 'test',
    id: 'sync',
    event: 'sync',
    body: Buffer.from('{}'),
    contentType: 'application/json',
    messageId: randomUUID(),
  });
}

async function waitUntil(cond: () => boolean, what: string, timeoutMs = 10000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
