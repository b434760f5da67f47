// The fuzz test's side of each transport, written for the test with plain
// amqplib / mqtt.js (not the agent's code): publishes generated cases as
// commands to one node, and turns what comes back (replies, command.completed
// events, dead letters) into Answers.
import { once } from 'node:events';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import mqtt, { type IClientPublishOptions, type MqttClient } from 'mqtt';
import type { FuzzCase, Profile } from './generator';
import { pbDecode } from './proto';
import { forgetSession, clearRetained } from '../mqtt';

export const AMQP_URL = process.env.VIRTBUS_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const MQTT_URL = process.env.VIRTBUS_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const START_HINT = 'start the brokers: `bash scripts/services.sh` (RabbitMQ on 5672, Mosquitto on 1883)';

export interface Answer {
  kind: 'reply' | 'completion' | 'deadletter';
  /** reply: the correlation it carries (AMQP correlation_id, MQTT 5 correlation data as hex, 3.1.1 correlationid); completion: data.id; dead letter: the case tag */
  key?: string;
  ok?: boolean;
  code?: string;
  message?: string;
  /** where it arrived (queue / topic / routing key), shortened */
  where: string;
  at: number;
  /** the body could not be read as a reply / event */
  parseError?: string;
  /** a successful reply's result */
  result?: unknown;
  summary: string;
}

export interface Bus {
  readonly profile: Profile;
  readonly name: string;
  /** checks the broker is there (before any agent starts); throws saying what to start */
  probe(): Promise<void>;
  /** connects and listens (after the agent declared its topology) */
  connect(node: string): Promise<void>;
  readonly replyTo: string;
  readonly oddReplyTo: string[];
  agentArgs(node: string): string[];
  send(c: FuzzCase): Promise<void>;
  /** a valid command with our reply address; resolves with the key its reply will carry */
  sendValid(command: 'agent.ping' | 'agent.status' | 'domain.list', id: string): string;
  onAnswer?: (a: Answer) => void;
  /** harness problems (our own client refused or disconnected) */
  readonly problems: string[];
  /** AMQP: messages left in the node's command queue (call with the agent stopped) */
  nodeQueueDepth?(node: string): Promise<number>;
  cleanup(node: string): Promise<void>;
  close(): Promise<void>;
}

const short = (s: string, n = 120) => (s.length > n ? `${s.slice(0, n)}…(${s.length})` : s);

type Obj = Record<string, any>;

/** {ok, error} of a reply/completion data object */
function outcome(data: unknown): Pick<Answer, 'ok' | 'code' | 'message' | 'parseError' | 'result'> {
  if (typeof data !== 'object' || data === null) return { parseError: `data is ${JSON.stringify(data)?.slice(0, 80)}` };
  const d = data as Obj;
  if (d.ok === true) return { ok: true, result: d.result };
  const e = d.error as Obj | undefined;
  return {
    ok: false,
    code: typeof e?.code === 'string' ? e.code : undefined,
    message: typeof e?.message === 'string' ? e.message : undefined,
  };
}

/** A structured CloudEvent (JSON or protobuf) → {envelope, data}. */
function readStructured(body: Buffer, contentType: string | undefined): { env: Obj; data: unknown } {
  if (
    String(contentType ?? '')
      .toLowerCase()
      .includes('protobuf')
  ) {
    const { env } = pbDecode(body);
    return { env: { ...env, ...env.attributes }, data: env.data };
  }
  const env = JSON.parse(body.toString('utf8')) as Obj;
  return { env, data: env.data };
}

// ---------------------------------------------------------------- AMQP

export class AmqpBus implements Bus {
  readonly profile = 'amqp' as const;
  readonly name = 'RabbitMQ AMQP 0-9-1';
  readonly problems: string[] = [];
  onAnswer?: (a: Answer) => void;
  private conn?: ChannelModel;
  private ch?: Channel;
  private node = '';
  replyTo = '';
  oddReplyTo: string[] = [];

  async probe(): Promise<void> {
    const c = await amqp.connect(AMQP_URL).catch((e: Error) => {
      throw new Error(`RabbitMQ is not reachable at ${AMQP_URL} (${e.message}); ${START_HINT}`);
    });
    await c.close();
  }

  agentArgs(): string[] {
    return ['--bus', AMQP_URL];
  }

  async connect(node: string): Promise<void> {
    this.node = node;
    const conn = await amqp.connect(AMQP_URL, { noDelay: true });
    this.conn = conn;
    conn.on('error', (e) => this.problems.push(`AMQP connection error: ${e.message}`));
    const ch = await conn.createChannel();
    this.ch = ch;
    ch.on('error', (e) => this.problems.push(`AMQP channel error: ${e.message}`));
    const replies = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    this.replyTo = replies.queue;
    // a reply queue with an odd (valid) name: spaces, multi-byte, routing-key syntax
    const odd = await ch.assertQueue(`fz-${node}-ü 😀 #*.%~`, { exclusive: true, autoDelete: true });
    this.oddReplyTo = [odd.queue];
    const events = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    await ch.bindQueue(events.queue, 'virtbus.events', `v1.${node}.command.#`);
    const dead = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    await ch.bindQueue(dead.queue, 'virtbus.dlx', '');
    await ch.consume(replies.queue, (m) => m && this.onReply(m), { noAck: true });
    await ch.consume(odd.queue, (m) => m && this.onReply(m), { noAck: true });
    await ch.consume(events.queue, (m) => m && this.onEvent(m), { noAck: true });
    await ch.consume(dead.queue, (m) => m && this.onDeadLetter(m), { noAck: true });
  }

  private emit(a: Omit<Answer, 'at'>): void {
    this.onAnswer?.({ ...a, at: Date.now() });
  }

  private onReply(m: ConsumeMessage): void {
    const key = typeof m.properties.correlationId === 'string' ? m.properties.correlationId : undefined;
    const where = `queue ${short(m.fields.routingKey, 40)}`;
    try {
      const { data } = readStructured(m.content, m.properties.contentType);
      this.emit({ kind: 'reply', key, where, ...outcome(data), summary: short(m.content.toString('utf8'), 300) });
    } catch (e) {
      this.emit({
        kind: 'reply',
        key,
        where,
        parseError: (e as Error).message,
        summary: short(m.content.toString('hex'), 200),
      });
    }
  }

  private onEvent(m: ConsumeMessage): void {
    const where = `routing key ${short(m.fields.routingKey, 200)}`;
    if (!m.fields.routingKey.endsWith('.completed')) return;
    try {
      const { data } = readStructured(m.content, m.properties.contentType);
      const d = data as Obj;
      this.emit({
        kind: 'completion',
        key: typeof d?.id === 'string' ? d.id : undefined,
        where,
        ...outcome(d),
        summary: short(JSON.stringify(d), 300),
      });
    } catch (e) {
      this.emit({
        kind: 'completion',
        where,
        parseError: (e as Error).message,
        summary: short(m.content.toString('utf8'), 200),
      });
    }
  }

  private onDeadLetter(m: ConsumeMessage): void {
    const h = (m.properties.headers ?? {}) as Obj;
    const deaths = Array.isArray(h['x-death']) ? h['x-death'] : [];
    const queue = String(h['x-first-death-queue'] ?? deaths[0]?.queue ?? '');
    if (queue !== `virtbus.cmd.${this.node}`) return;
    const tag =
      typeof h['x-fuzz-tag'] === 'string'
        ? h['x-fuzz-tag']
        : Buffer.isBuffer(h['x-fuzz-tag'])
          ? h['x-fuzz-tag'].toString()
          : undefined;
    this.emit({
      kind: 'deadletter',
      key: tag,
      where: `dead letter (${String(h['x-first-death-reason'] ?? deaths[0]?.reason ?? '?')})`,
      summary: short(m.content.toString('utf8'), 200),
    });
  }

  async send(c: FuzzCase): Promise<void> {
    const ch = this.ch!;
    let ok: boolean;
    try {
      ok = ch.publish('virtbus.commands', this.node, c.body, {
        ...(c.contentType !== undefined && { contentType: c.contentType }),
        ...(c.messageId !== undefined && { messageId: c.messageId }),
        ...(c.correlationId !== undefined && { correlationId: c.correlationId }),
        ...(c.replyTo !== undefined && { replyTo: c.replyTo }),
        headers: { ...(c.headers ?? {}), 'x-fuzz-tag': c.tag },
      });
    } catch (e) {
      this.problems.push(`publishing ${c.tag} failed: ${(e as Error).message}`);
      return;
    }
    if (!ok) await once(ch, 'drain');
  }

  sendValid(command: string, id: string): string {
    const env = { specversion: '1.0', id, source: 'fuzz', type: `virtbus.cmd.${command}`, data: {} };
    this.ch!.publish('virtbus.commands', this.node, Buffer.from(JSON.stringify(env)), {
      contentType: 'application/cloudevents+json',
      messageId: id,
      correlationId: id,
      replyTo: this.replyTo,
    });
    return id;
  }

  async nodeQueueDepth(node: string): Promise<number> {
    const ch = await this.conn!.createChannel();
    try {
      return (await ch.checkQueue(`virtbus.cmd.${node}`)).messageCount;
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  async cleanup(node: string): Promise<void> {
    const conn = await amqp.connect(AMQP_URL);
    try {
      const ch = await conn.createChannel();
      await ch.deleteQueue(`virtbus.cmd.${node}`).catch(() => undefined);
    } finally {
      await conn.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.conn?.close().catch(() => undefined);
  }
}

// ---------------------------------------------------------------- MQTT

export class MqttBus implements Bus {
  readonly profile: Profile;
  readonly name: string;
  readonly problems: string[] = [];
  onAnswer?: (a: Answer) => void;
  private client?: MqttClient;
  private node = '';
  replyTo = '';
  oddReplyTo: string[] = [];

  constructor(readonly version: 4 | 5) {
    this.profile = version === 5 ? 'mqtt5' : 'mqtt4';
    this.name = version === 5 ? 'Mosquitto MQTT 5' : 'Mosquitto MQTT 3.1.1';
  }

  async probe(): Promise<void> {
    const c = await mqtt
      .connectAsync(MQTT_URL, { protocolVersion: this.version, reconnectPeriod: 0, connectTimeout: 5000 })
      .catch((e: Error) => {
        throw new Error(
          `Mosquitto is not reachable at ${MQTT_URL} (MQTT ${this.version === 5 ? '5' : '3.1.1'}: ${e.message}); ${START_HINT}`,
        );
      });
    await c.endAsync();
  }

  agentArgs(): string[] {
    return ['--bus', MQTT_URL, '--mqtt-version', String(this.version)];
  }

  async connect(node: string): Promise<void> {
    this.node = node;
    const client = await mqtt.connectAsync(MQTT_URL, {
      protocolVersion: this.version,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      clientId: `fz-${node}`.slice(0, 64),
      ...(this.version === 5 && { properties: { receiveMaximum: 65535, maximumPacketSize: 268435455 } }),
    });
    (client.stream as unknown as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
    this.client = client;
    client.on('close', () => this.problems.push('our MQTT client was disconnected'));
    client.on('error', (e) => this.problems.push(`our MQTT client: ${e.message}`));
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, (packet.properties ?? {}) as Obj));
    this.replyTo = `fz/${node}/r`;
    // valid reply topics with odd names, under our prefix
    this.oddReplyTo = [
      `fz/${node}/é/ü/😀`,
      `fz/${node}/a b/ /c`,
      `fz/${node}//x/`,
      `fz/${node}/%2F%23%2B`,
      `fz/${node}/.../*`,
      `fz/${node}/${'y'.repeat(60000)}`,
    ];
    await client.subscribeAsync([`fz/${node}/#`, `virtbus/v1/${node}/command/#`], { qos: 1 });
  }

  private emit(a: Omit<Answer, 'at'>): void {
    this.onAnswer?.({ ...a, at: Date.now() });
  }

  /** A CloudEvent from MQTT: binary mode (MQTT 5, user properties) or structured (JSON / protobuf). */
  private read(payload: Buffer, props: Obj): { env: Obj; data: unknown } {
    const up = props.userProperties as Obj | undefined;
    if (this.version === 5 && up?.specversion !== undefined) {
      const ct = String(props.contentType ?? 'application/json');
      const data =
        payload.length === 0
          ? undefined
          : ct.includes('json')
            ? JSON.parse(payload.toString('utf8'))
            : payload.toString('utf8');
      return { env: up, data };
    }
    return readStructured(payload, props.contentType);
  }

  private onMessage(topic: string, payload: Buffer, props: Obj): void {
    const where = `topic ${short(topic, 120)}`;
    if (topic.startsWith(`fz/${this.node}/`)) {
      let key: string | undefined;
      try {
        const { env, data } = this.read(payload, props);
        if (this.version === 5)
          key = props.correlationData ? Buffer.from(props.correlationData).toString('hex') : undefined;
        else key = typeof env.correlationid === 'string' ? env.correlationid : undefined;
        this.emit({ kind: 'reply', key, where, ...outcome(data), summary: short(payload.toString('utf8'), 300) });
      } catch (e) {
        if (this.version === 5 && props.correlationData) key = Buffer.from(props.correlationData).toString('hex');
        this.emit({
          kind: 'reply',
          key,
          where,
          parseError: (e as Error).message,
          summary: short(payload.toString('hex'), 200),
        });
      }
      return;
    }
    if (!topic.endsWith('/completed')) return;
    try {
      const { data } = this.read(payload, props);
      const d = data as Obj;
      this.emit({
        kind: 'completion',
        key: typeof d?.id === 'string' ? d.id : undefined,
        where,
        ...outcome(d),
        summary: short(JSON.stringify(d), 300),
      });
    } catch (e) {
      this.emit({
        kind: 'completion',
        where,
        parseError: (e as Error).message,
        summary: short(payload.toString('utf8'), 200),
      });
    }
  }

  send(c: FuzzCase): Promise<void> {
    const opts: IClientPublishOptions = { qos: 1 };
    if (this.version === 5) {
      const p: NonNullable<IClientPublishOptions['properties']> = {};
      if (c.contentType !== undefined) p.contentType = c.contentType;
      if (c.replyTo !== undefined) p.responseTopic = c.replyTo;
      if (c.correlationData !== undefined) p.correlationData = c.correlationData;
      if (c.userProperties) p.userProperties = c.userProperties;
      opts.properties = p;
    }
    // not awaiting the PUBACK: the run's window bounds what is outstanding
    try {
      this.client!.publish(`virtbus/v1/${this.node}/cmd`, c.body, opts, (err) => {
        if (err) this.problems.push(`publishing ${c.tag} failed: ${err.message}`);
      });
    } catch (e) {
      this.problems.push(`publishing ${c.tag} failed: ${(e as Error).message}`);
    }
    return Promise.resolve();
  }

  sendValid(command: string, id: string): string {
    const env: Obj = { specversion: '1.0', id, source: 'fuzz', type: `virtbus.cmd.${command}`, data: {} };
    const opts: IClientPublishOptions = { qos: 1 };
    if (this.version === 5)
      opts.properties = {
        responseTopic: this.replyTo,
        correlationData: Buffer.from(id),
        contentType: 'application/cloudevents+json',
      };
    else Object.assign(env, { replyto: this.replyTo, correlationid: id });
    this.client!.publish(`virtbus/v1/${this.node}/cmd`, JSON.stringify(env), opts);
    return this.version === 5 ? Buffer.from(id).toString('hex') : id;
  }

  async cleanup(node: string): Promise<void> {
    await forgetSession(MQTT_URL, this.version, `virtbus-agent-${node}`).catch(() => undefined);
    await clearRetained(MQTT_URL, this.version, `virtbus/v1/${node}/status`).catch(() => undefined);
  }

  async close(): Promise<void> {
    const c = this.client;
    if (!c) return;
    c.removeAllListeners('close');
    await c.endAsync(true).catch(() => undefined);
  }
}
