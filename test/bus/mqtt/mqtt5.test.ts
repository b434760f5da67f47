// What only MQTT 5 has, on Mosquitto: CloudEvents binary content mode on
// the wire (attributes in user properties, data as payload) both ways, and
// the will delay that keeps a quick reconnect from flapping presence.
import { EventEmitter, once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { MqttTransport, type MqttTransportOptions } from '../../../src/bus/mqtt';
import { toBinary, toStructured } from '../../../src/bus/mqtt/cloudevents';
import { eventTopic, topicLevel } from '../../../src/contract/addresses';
import type { Delivery } from '../../../src/bus/transport';
import { EventLog } from '../../helpers/events';
import {
  MOSQUITTO_V5,
  TcpProxy,
  TestMqttClient,
  clearRetained,
  commandEnvelope,
  forgetSession,
  mqttNodeId,
} from '../../helpers/mqtt';

const CE_JSON = 'application/cloudevents+json';

describe('CloudEvents MQTT binding (no broker)', () => {
  test('structured JSON -> binary -> structured keeps every attribute and the data', () => {
    const env = {
      specversion: '1.0',
      id: 'e1',
      source: 'virtbus://n1',
      type: 'virtbus.event.domain.lifecycle',
      time: '2026-01-01T00:00:00.000Z',
      subject: 'uuid-1',
      datacontenttype: 'application/json',
      seq: 17,
      data: { event: 'started', n: [1, 2] },
    };
    const bin = toBinary(Buffer.from(JSON.stringify(env)))!;
    expect(bin.contentType).toBe('application/json');
    expect(JSON.parse(bin.payload.toString())).toEqual(env.data);
    // Binary mode carries every attribute as a string.
    expect(bin.userProperties).toEqual({
      specversion: '1.0',
      id: 'e1',
      source: 'virtbus://n1',
      type: env.type,
      time: env.time,
      subject: 'uuid-1',
      seq: '17',
    });
    expect(JSON.parse(toStructured(bin).toString())).toEqual({ ...env, seq: '17' });
  });

  test('data_base64 and text data; not-a-CloudEvent stays as it is', () => {
    const b64 = toBinary(
      Buffer.from(
        JSON.stringify({
          specversion: '1.0',
          id: 'a',
          source: 's',
          type: 't',
          data_base64: Buffer.from([1, 2, 255]).toString('base64'),
        }),
      ),
    )!;
    expect([...b64.payload]).toEqual([1, 2, 255]);
    expect(b64.contentType).toBe('application/octet-stream');
    expect(JSON.parse(toStructured(b64).toString()).data_base64).toBe('AQL/');
    const text = toBinary(
      Buffer.from(
        JSON.stringify({
          specversion: '1.0',
          id: 'a',
          source: 's',
          type: 't',
          datacontenttype: 'text/plain',
          data: 'hi',
        }),
      ),
    )!;
    expect(text.payload.toString()).toBe('hi');
    expect(JSON.parse(toStructured(text).toString()).data).toBe('hi');
    expect(toBinary(Buffer.from('[1]'))).toBeUndefined();
    expect(toBinary(Buffer.from('not json'))).toBeUndefined();
  });

  test('topic levels: topic syntax is percent-encoded, reversibly', () => {
    expect(topicLevel('a/b+c#d%e')).toBe('a%2Fb%2Bc%23d%25e');
    expect(decodeURIComponent(topicLevel('a/b+c#d%e'))).toBe('a/b+c#d%e');
    expect(eventTopic('n1', 'volume', '/var/lib/x.qcow2', 'created')).toBe(
      'virtbus/v1/n1/volume/%2Fvar%2Flib%2Fx.qcow2/created',
    );
    expect(() => new MqttTransport({ endpoint: 'mqtt://127.0.0.1', nodeId: 'all' })).toThrow('reserved');
    expect(() => new MqttTransport({ endpoint: 'amqp://127.0.0.1', nodeId: 'n1' })).toThrow('mqtt://');
  });
});

describe(`MQTT 5 on ${MOSQUITTO_V5.name}`, () => {
  let url: string;
  let client: TestMqttClient;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    url = await MOSQUITTO_V5.setup();
    client = await TestMqttClient.connect(url, 5);
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  afterAll(async () => {
    await client?.close();
  });

  async function startAgent(o: Partial<MqttTransportOptions> = {}) {
    const node = mqttNodeId('mqtt5');
    const em = new EventEmitter();
    const deliveries = new EventLog<Delivery>(em);
    const t = new MqttTransport({
      endpoint: url,
      nodeId: node,
      backoff: { initialMs: 50, maxMs: 300 },
      sessionExpiryS: 120,
      ...o,
    });
    cleanups.push(async () => {
      await t.close();
      await forgetSession(url, 5, t.clientId);
      await clearRetained(url, 5, t.statusTopic);
    });
    await t.start({
      beforeConsume: async () => undefined,
      onDelivery: (d) => {
        em.emit('event', d);
      },
    });
    return { t, node, deliveries };
  }

  test('events and replies go out in binary mode: user properties + data payload', async () => {
    const { t, node } = await startAgent();
    const replyTopic = `test/${randomUUID()}/reply`;
    await client.subscribe(`virtbus/v1/${node}/#`);
    await client.subscribe(replyTopic);
    const event = {
      specversion: '1.0',
      id: randomUUID(),
      source: `virtbus://${node}`,
      type: 'virtbus.event.domain.lifecycle',
      time: new Date().toISOString(),
      subject: 'uuid-1',
      datacontenttype: 'application/json',
      data: { event: 'started', seq: 1 },
    };
    await t.publishEvent({
      object: 'domain',
      id: 'uuid-1',
      event: 'lifecycle',
      body: Buffer.from(JSON.stringify(event)),
      contentType: CE_JSON,
      messageId: event.id,
    });
    const e = await client.waitFor((m) => m.topic === `virtbus/v1/${node}/domain/uuid-1/lifecycle`, 'the event');
    expect(e.json()).toEqual(event.data);
    expect(e.packet.properties?.contentType).toBe('application/json');
    expect(e.packet.properties?.userProperties).toEqual({
      specversion: '1.0',
      id: event.id,
      source: event.source,
      type: event.type,
      time: event.time,
      subject: 'uuid-1',
    });

    const reply = {
      specversion: '1.0',
      id: randomUUID(),
      source: `virtbus://${node}`,
      type: 'virtbus.reply',
      subject: 'virtbus.cmd.agent.ping',
      datacontenttype: 'application/json',
      data: { ok: true, result: {} },
    };
    await t.publishReply({
      to: replyTopic,
      correlationId: 'c-1',
      body: Buffer.from(JSON.stringify(reply)),
      contentType: CE_JSON,
    });
    const r = await client.waitFor((m) => m.topic === replyTopic, 'the reply');
    expect(r.json()).toEqual(reply.data);
    expect(r.packet.properties).toMatchObject({ contentType: 'application/json', correlationData: Buffer.from('c-1') });
    expect(r.packet.properties?.userProperties).toMatchObject({
      type: 'virtbus.reply',
      id: reply.id,
      subject: 'virtbus.cmd.agent.ping',
    });

    // Not structured JSON (protobuf): the bytes as they are, with their content type.
    const proto = Buffer.from([0x0a, 0x03, 0x31, 0x2e, 0x30]);
    await t.publishEvent({
      object: 'domain',
      id: 'uuid-1',
      event: 'proto',
      body: proto,
      contentType: 'application/cloudevents+protobuf',
      messageId: 'p1',
    });
    const p = await client.waitFor((m) => m.topic.endsWith('/proto'), 'the protobuf event');
    expect(p.payload.equals(proto)).toBe(true);
    expect(p.packet.properties?.contentType).toBe('application/cloudevents+protobuf');
    expect(p.packet.properties?.userProperties).toBeUndefined();
  });

  test('an inbound binary-mode command is handed over as a structured envelope; a structured one as it came', async () => {
    const { node, deliveries } = await startAgent();
    const id = randomUUID();
    await client.publish(`virtbus/v1/${node}/cmd`, JSON.stringify({ domain: 'vm1' }), {
      properties: {
        contentType: 'application/json',
        responseTopic: 'test/r',
        correlationData: Buffer.from(id),
        userProperties: {
          specversion: '1.0',
          id,
          source: 'orchestrator-1',
          type: 'virtbus.cmd.domain.start',
          deadline: '2030-01-01T00:00:00Z',
          'X-Trace': 'abc',
        },
      },
    });
    const d = await deliveries.waitFor((x) => x.message.correlationId === id, 'the binary command');
    d.ack();
    expect(d.message.contentType).toBe(CE_JSON);
    expect(d.message.replyTo).toBe('test/r');
    expect(JSON.parse(d.message.body.toString())).toEqual({
      specversion: '1.0',
      id,
      source: 'orchestrator-1',
      type: 'virtbus.cmd.domain.start',
      deadline: '2030-01-01T00:00:00Z',
      datacontenttype: 'application/json',
      data: { domain: 'vm1' },
    });
    // All user properties stay visible as headers, attributes or not.
    expect(d.message.headers).toMatchObject({ 'X-Trace': 'abc', specversion: '1.0' });

    const env = commandEnvelope('agent.ping');
    const body = JSON.stringify(env);
    await client.publish(`virtbus/v1/${node}/cmd`, body, {
      properties: { contentType: CE_JSON, correlationData: Buffer.from('s-1'), responseTopic: 'test/r' },
    });
    const s = await deliveries.waitFor((x) => x.message.correlationId === 's-1', 'the structured command');
    s.ack();
    expect(s.message.body.toString()).toBe(body);
    expect(s.message.contentType).toBe(CE_JSON);
  });

  test('a reconnect within the will delay does not flap presence to offline', async () => {
    const proxy = await TcpProxy.start(url);
    cleanups.push(() => proxy.close());
    const { t, node } = await startAgent({ endpoint: proxy.url, willDelayS: 2 });
    const watcher = await TestMqttClient.connect(url, 5);
    cleanups.push(() => watcher.close());
    await watcher.subscribe(`virtbus/v1/${node}/status`);
    await watcher.waitFor((m) => m.payload.length > 0, 'online');
    const reconnected = once(t, 'connected');
    proxy.cut();
    await reconnected;
    await new Promise((r) => setTimeout(r, 2500));
    expect(watcher.log.all.map((m) => m.json().status)).not.toContain('offline');
  });

  test('a reply to a topic with wildcards is refused before it costs the connection', async () => {
    const { t } = await startAgent();
    await expect(
      t.publishReply({ to: 'test/+/x', correlationId: 'c', body: Buffer.from('{}'), contentType: 'application/json' }),
    ).rejects.toThrow('wildcard');
    await expect(
      t.publishReply({ to: '', correlationId: 'c', body: Buffer.from('{}'), contentType: 'application/json' }),
    ).rejects.toThrow('empty');
    expect(t.connected).toBe(true);
  });
});
