// Each way a caller made an agent deaf (issue 9), sent for real to an agent on
// RabbitMQ and on Mosquitto MQTT 5, more times than the agent has prefetch
// or Receive Maximum slots: it must answer every one and stay on the broker.
// test/system/fuzz.test.ts covers the same ground at random and in bulk.
import { randomUUID } from 'node:crypto';
import protobuf from 'protobufjs';
import type { Agent } from '../../src/agent/agent';
import { AmqpTransport } from '../../src/bus/amqp/transport';
import { MqttTransport } from '../../src/bus/mqtt/transport';
import { startAgent, testNode } from '../helpers/agent';
import { AMQP_URL, TestClient, deleteNodeQueues } from '../helpers/amqp-client';
import { MOSQUITTO_V5, forgetAgent } from '../helpers/mqtt';
import { MqttTestClient } from '../helpers/mqtt-client';

/** more than the agent's prefetch (8) and Receive Maximum (16): a leaked slot per command would stop it */
const MANY = 20;
const env = (o: Record<string, unknown>) => ({
  specversion: '1.0',
  id: randomUUID(),
  source: 'hostile-test',
  type: 'virtbus.cmd.agent.ping',
  data: {},
  ...o,
});

describe('over RabbitMQ AMQP', () => {
  const node = testNode('hostile-amqp');
  let agent: Agent;
  let client: TestClient;
  let disconnects = 0;

  beforeAll(async () => {
    client = await TestClient.connect();
    await client.bindEvents(`v1.${node}.command.#`);
    const transport = new AmqpTransport({ endpoint: AMQP_URL, nodeId: node, prefetch: 8 });
    transport.on('disconnected', () => {
      disconnects++;
    });
    agent = await startAgent({ node, transport });
  });
  afterAll(async () => {
    await agent?.close();
    await client?.close();
    await deleteNodeQueues(node);
  });
  afterEach(async () => {
    // still answering, still connected, nothing settled without its answer
    const ping = await client.call(node, 'agent.ping', {}, { timeoutMs: 1000 });
    expect(ping.data.ok).toBe(true);
    expect(disconnects).toBe(0);
    expect(agent.status()).toMatchObject({ intake: { unanswered: 0 } });
  });

  test('no reply_to and an id with dots: one completion event each, one word in the key', async () => {
    const ids = Array.from({ length: MANY }, (_, i) => `no.reply.${i}.${randomUUID().slice(0, 4)}`);
    for (const id of ids) client.send(node, JSON.stringify(env({ id })), { messageId: id });
    for (const id of ids) {
      const key = `v1.${node}.command.${id.replace(/\./g, '%2E')}.completed`;
      const m = await client.waitFor((x) => x.routingKey === key, `completion of ${id}`);
      expect(m.body.data).toMatchObject({ id, ok: true });
    }
  });

  test('no reply_to and an id of 128 × é: the routing key carries its digest', async () => {
    for (let i = 0; i < MANY; i++) client.send(node, JSON.stringify(env({ id: `${i}`.padEnd(128, 'é') })));
    await client.waitFor(
      () => client.received.filter((m) => m.body?.data?.id?.endsWith?.('é'.repeat(100))).length >= MANY,
      `${MANY} completion events`,
    );
    const keys = client.received.filter((m) => m.body?.data?.id?.endsWith?.('é'.repeat(100))).map((m) => m.routingKey);
    for (const k of keys) expect(k).toMatch(new RegExp(`^v1\\.${node}\\.command\\.~[A-Za-z0-9_-]{43}\\.completed$`));
  });

  test('a 0.9 MB unknown type: a small BAD_REQUEST reply each', async () => {
    const type = `virtbus.cmd.${'x'.repeat(900_000)}`;
    const ids = Array.from({ length: MANY }, () => randomUUID());
    for (const id of ids)
      client.send(node, JSON.stringify(env({ id, type })), {
        messageId: id,
        correlationId: id,
        replyTo: client.replyQueue,
      });
    for (const id of ids) {
      const r = await client.replyTo(id, 'reply');
      expect(r.body.data.error.code).toBe('BAD_REQUEST');
      expect(JSON.stringify(r.body).length).toBeLessThan(1024);
    }
  });

  test('a protobuf attribute entry without a value is not INTERNAL', async () => {
    const w = protobuf.Writer.create();
    const id = randomUUID();
    w.uint32((1 << 3) | 2)
      .string(id)
      .uint32((2 << 3) | 2)
      .string('t')
      .uint32((3 << 3) | 2)
      .string('1.0')
      .uint32((4 << 3) | 2)
      .string('virtbus.cmd.agent.ping');
    w.uint32((5 << 3) | 2).bytes(
      protobuf.Writer.create()
        .uint32((1 << 3) | 2)
        .string('subject')
        .finish(),
    );
    client.send(node, Buffer.from(w.finish()), {
      messageId: id,
      correlationId: id,
      replyTo: client.replyQueue,
      contentType: 'application/cloudevents+protobuf',
    });
    const r = await client.replyTo(id, 'reply');
    expect(r.properties.contentType).toBe('application/cloudevents+protobuf');
    expect(r.body).not.toMatch(/INTERNAL/);
  });
});

describe('over Mosquitto MQTT 5', () => {
  const node = testNode('hostile-mqtt');
  let agent: Agent;
  let client: MqttTestClient;
  let url: string;
  let disconnects = 0;

  beforeAll(async () => {
    url = await MOSQUITTO_V5.setup();
    client = await MqttTestClient.connect(url, 5);
    await client.subscribe(`virtbus/v1/${node}/command/#`);
    const transport = new MqttTransport({ endpoint: url, nodeId: node, protocolVersion: 5 });
    transport.on('disconnected', () => {
      disconnects++;
    });
    agent = await startAgent({ node, transport });
  });
  afterAll(async () => {
    await agent?.close();
    await client?.close();
    await forgetAgent(url, 5, node); // its session and its retained status
  });
  afterEach(async () => {
    const ping = await client.call(node, 'agent.ping', {}, { timeoutMs: 1000 });
    expect(ping.data.ok).toBe(true);
    expect(disconnects).toBe(0);
    expect(agent.status()).toMatchObject({ intake: { unanswered: 0 } });
  });

  const publish = (body: unknown, properties: Record<string, unknown>) =>
    client.client.publish(`virtbus/v1/${node}/cmd`, JSON.stringify(body), {
      qos: 1,
      properties: { contentType: 'application/cloudevents+json', ...properties },
    });

  test.each([
    ['NUL', '\u0000'],
    ['TAB', '\t'],
  ])('a %s in the type or id: BAD_REQUEST replies, the connection stays', async (_n, c) => {
    const corr = Array.from({ length: MANY }, (_, i) => `${c}-${i}-${randomUUID()}`);
    corr.forEach((k, i) =>
      publish(env(i % 2 ? { id: `bad${c}id-${i}` } : { type: `virtbus.cmd.agent${c}ping` }), {
        responseTopic: client.replyTopic,
        correlationData: Buffer.from(k),
      }),
    );
    for (const k of corr)
      expect((await client.waitFor(client.isReplyTo(k), 'reply')).body.data.error.code).toBe('BAD_REQUEST');
  });

  test('a ~70 KB type: one small BAD_REQUEST each (no over-long User Property)', async () => {
    const corr = Array.from({ length: MANY }, () => randomUUID());
    for (const k of corr)
      publish(env({ type: `virtbus.cmd.${'t'.repeat(70_000)}` }), {
        responseTopic: client.replyTopic,
        correlationData: Buffer.from(k),
      });
    for (const k of corr)
      expect((await client.waitFor(client.isReplyTo(k), 'reply')).body.data.error.code).toBe('BAD_REQUEST');
  });

  test.each(['#', '+', 'a/+/b', '$SYS/x'])(
    'Response Topic %j: not run, BAD_REQUEST as the completion event',
    async (topic) => {
      const ids = Array.from({ length: MANY }, () => randomUUID());
      for (const id of ids) publish(env({ id }), { responseTopic: topic, correlationData: Buffer.from(id) });
      for (const id of ids) {
        const m = await client.waitFor(
          (x) => x.topic === `virtbus/v1/${node}/command/${id}/completed`,
          'completion event',
        );
        expect(m.body.data).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
      }
    },
  );

  test('Correlation Data that is not UTF-8 comes back unchanged', async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0xfd, 0x00, 0xc3]);
    publish(env({}), { responseTopic: client.replyTopic, correlationData: bytes });
    const r = await client.waitFor(
      (m) =>
        m.topic === client.replyTopic && Buffer.compare(Buffer.from(m.properties.correlationData ?? []), bytes) === 0,
      'reply with the same bytes',
    );
    expect(r.body.data.ok).toBe(true);
  });
});
