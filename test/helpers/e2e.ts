// One end-to-end suite, many transports: each case knows how to build the
// agent's transport and a plain client (amqplib or mqtt.js) for it.
import { randomUUID } from 'node:crypto';
import { AmqpTransport } from '../../src/bus/amqp/transport';
import { MqttTransport } from '../../src/bus/mqtt/transport';
import type { Transport } from '../../src/bus/transport';
import { AMQP_URL, TestClient, deleteNodeQueues } from './amqp-client';
import { MqttTestClient } from './mqtt-client';
import { BROKERS, forgetAgent } from './mqtt';

export interface BusEvent {
  address: string;
  body: any;
}

/** What a test needs from a client, whatever the transport. */
export interface E2EClient {
  call(node: string, command: string, data?: unknown, o?: { id?: string; deadline?: string }): Promise<any>;
  /** sends a raw body as a command; resolves with the answer (reply, or completion event where no reply address can travel) */
  sendRaw(node: string, body: Buffer | string, o?: { contentType?: string }): Promise<any>;
  /** sends the envelope without any reply address */
  sendNoReply(node: string, env: Record<string, unknown>): void;
  /** sends an envelope twice with the same id and resolves with both answers */
  sendTwice(node: string, env: Record<string, unknown>): Promise<[any, any]>;
  watchNode(node: string): Promise<void>;
  readonly events: BusEvent[];
  waitEvent(pred: (e: BusEvent) => boolean, what: string, timeoutMs?: number): Promise<BusEvent>;
  close(): Promise<void>;
}

export interface E2ECase {
  name: string;
  /** reply address and correlation travel as transport properties (AMQP, MQTT 5) */
  replyProps: boolean;
  /** the content type travels (AMQP, MQTT 5): protobuf is possible */
  contentType: boolean;
  setup(): Promise<void>;
  transport(node: string): Transport;
  client(): Promise<E2EClient>;
  cleanup(node: string): Promise<void>;
}

function amqpClient(c: TestClient): E2EClient {
  const toEvent = (m: { routingKey: string; body: any }) => ({
    address: m.routingKey.split('.').slice(2).join('.'),
    body: m.body,
  });
  return {
    call: (node, command, data, o) => c.call(node, command, data ?? {}, o),
    async sendRaw(node, body, o = {}) {
      const id = randomUUID();
      c.send(node, body, {
        messageId: id,
        correlationId: id,
        replyTo: c.replyQueue,
        ...(o.contentType && { contentType: o.contentType }),
      });
      return (await c.replyTo(id, 'reply')).body;
    },
    sendNoReply(node, env) {
      c.send(node, JSON.stringify(env), { messageId: String(env.id) });
    },
    async sendTwice(node, env) {
      const id = String(env.id);
      for (let i = 0; i < 2; i++)
        c.send(node, JSON.stringify(env), { messageId: id, correlationId: id, replyTo: c.replyQueue });
      await c.waitFor(
        () => c.received.filter((m) => m.exchange === '' && m.properties.correlationId === id).length >= 2,
        'two replies',
      );
      const [a, b] = c.received
        .filter((m) => m.exchange === '' && m.properties.correlationId === id)
        .map((m) => m.body);
      return [a, b];
    },
    async watchNode(node) {
      await c.bindEvents(`v1.${node}.#`);
    },
    get events() {
      return c.received.filter((m) => m.exchange === 'virtbus.events').map(toEvent);
    },
    async waitEvent(pred, what, timeoutMs) {
      return toEvent(await c.waitFor((m) => m.exchange === 'virtbus.events' && pred(toEvent(m)), what, timeoutMs));
    },
    close: () => c.close(),
  };
}

function mqttClient(c: MqttTestClient): E2EClient {
  const isEvent = (t: string) => t.startsWith('virtbus/v1/') && t.split('/').length === 6;
  const toEvent = (m: { topic: string; body: any }) => ({
    address: m.topic.split('/').slice(3).join('.'),
    body: m.body,
  });
  const completedAsReply = (body: any) => ({
    ...body,
    data: { ok: body.data.ok, ...(body.data.ok ? { result: body.data.result } : { error: body.data.error }) },
  });
  return {
    call: (node, command, data, o) => c.call(node, command, data ?? {}, o),
    async sendRaw(node, body, o = {}) {
      const id = randomUUID();
      if (c.protocolVersion === 5) {
        c.sendRaw(node, body, id, o);
        return (await c.waitFor(c.isReplyTo(id), 'reply')).body;
      }
      // 3.1.1: no reply address outside the envelope; an unreadable command is reported as a completion event
      const from = c.received.length;
      c.sendRaw(node, body, id, o);
      const m = await c.waitFor(
        (x) => c.received.indexOf(x) >= from && isEvent(x.topic) && x.body?.type === 'virtbus.event.command.completed',
        'completion event',
      );
      return completedAsReply(m.body);
    },
    sendNoReply(node, env) {
      const { replyto: _r, correlationid: _c, ...rest } = env;
      c.client.publish(`virtbus/v1/${node}/cmd`, JSON.stringify(rest), { qos: 1 });
    },
    async sendTwice(node, env) {
      const id = String(env.id);
      const full = c.protocolVersion === 4 ? { ...env, replyto: c.replyTopic, correlationid: id } : env;
      for (let i = 0; i < 2; i++) c.sendRaw(node, JSON.stringify(full), id);
      await c.waitFor(() => c.received.filter(c.isReplyTo(id)).length >= 2, 'two replies');
      const [a, b] = c.received.filter(c.isReplyTo(id)).map((m) => m.body);
      return [a, b];
    },
    async watchNode(node) {
      await c.subscribe(`virtbus/v1/${node}/+/+/+`);
    },
    get events() {
      return c.received.filter((m) => isEvent(m.topic)).map(toEvent);
    },
    async waitEvent(pred, what, timeoutMs) {
      return toEvent(await c.waitFor((m) => isEvent(m.topic) && pred(toEvent(m)), what, timeoutMs));
    },
    close: () => c.close(),
  };
}

const mqttCase = (brokerName: string, replyProps: boolean): E2ECase => {
  const broker = BROKERS.find((b) => b.name === brokerName)!;
  let url = '';
  return {
    name: broker.name,
    replyProps,
    contentType: replyProps,
    async setup() {
      url = await broker.setup();
    },
    transport: (node) =>
      new MqttTransport({
        endpoint: url,
        nodeId: node,
        protocolVersion: broker.protocolVersion,
        maxMessageBytes: 1024 * 1024,
      }),
    client: async () => mqttClient(await MqttTestClient.connect(url, broker.protocolVersion)),
    // the session and the retained status (offline after the agent closed): nothing of the test stays on the broker
    async cleanup(node) {
      await forgetAgent(url, broker.protocolVersion, node);
    },
  };
};

export const E2E_CASES: E2ECase[] = [
  {
    name: 'RabbitMQ AMQP 0-9-1',
    replyProps: true,
    contentType: true,
    async setup() {
      await (await TestClient.connect()).close();
    },
    transport: (node) => new AmqpTransport({ endpoint: AMQP_URL, nodeId: node }),
    client: async () => amqpClient(await TestClient.connect()),
    cleanup: (node) => deleteNodeQueues(node),
  },
  mqttCase('Mosquitto MQTT 5', true),
  mqttCase('Mosquitto MQTT 3.1.1', false),
  mqttCase('RabbitMQ MQTT 3.1.1', false),
];
