// An orchestrator that survives faults, written for the fault tests (not the
// agent's code): it reconnects to its broker by itself, keeps its reply and
// event subscriptions across broker restarts (durable queues on RabbitMQ, a
// persistent session on MQTT), de-duplicates events by their id, and sends
// a command again with the SAME id after a timeout until a final reply comes
// (IN_PROGRESS is not final) — what an orchestrator does.
import { randomUUID } from 'node:crypto';
import amqp, { type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import mqtt, { type MqttClient } from 'mqtt';

export interface ReplyData {
  ok: boolean;
  result?: any;
  error?: { code: string; message: string };
}

export interface Call {
  id: string;
  command: string;
  data: unknown;
  issuedAt: number;
  /** how many times it was sent (1 = never re-sent) */
  attempts: number;
  /** when each attempt was sent */
  sends: number[];
  /** every reply that arrived for this id, IN_PROGRESS ones included */
  replies: Array<{ at: number; data: ReplyData }>;
  final?: ReplyData;
  answeredAt?: number;
  /** no final reply before giving up */
  lost?: boolean;
}

export interface SeenEvent {
  id: string;
  type: string;
  data: any;
  receivedAt: number;
}

export interface CallOptions {
  id?: string;
  giveUpMs?: number;
}

export abstract class Orchestrator {
  readonly calls = new Map<string, Call>();
  /** distinct events in arrival order */
  readonly events: SeenEvent[] = [];
  /** events received again with an id already seen (at-least-once publishing) */
  duplicateEvents = 0;
  connected = false;
  /** times the client (re)connected */
  readonly connects: number[] = [];
  private readonly seen = new Set<string>();
  private readonly finalWaiters = new Map<string, () => void>();
  private connectedWaiters: Array<() => void> = [];
  protected closed = false;

  /** resendMs: how long to wait for a final reply before sending the same command again */
  constructor(
    readonly node: string,
    readonly resendMs: number,
  ) {}

  /** Sends until a final reply arrives (or giveUpMs passes: then lost). */
  async call(command: string, data: unknown = {}, o: CallOptions = {}): Promise<Call> {
    const c: Call = {
      id: o.id ?? randomUUID(),
      command,
      data,
      issuedAt: Date.now(),
      attempts: 0,
      sends: [],
      replies: [],
    };
    this.calls.set(c.id, c);
    const end = Date.now() + (o.giveUpMs ?? 60_000);
    while (!c.final && Date.now() < end && !this.closed) {
      if (!this.connected) {
        await this.whenConnected(Math.min(end - Date.now(), 1000));
        continue;
      }
      c.attempts++;
      c.sends.push(Date.now());
      this.send(c).catch(() => undefined); // a send lost to a fault is covered by the resend
      await this.waitFinal(c.id, Math.min(this.resendMs, Math.max(0, end - Date.now())));
    }
    if (!c.final) c.lost = true;
    return c;
  }

  /** Calls and throws unless the final reply is ok; the result. */
  async ok(command: string, data: unknown = {}, o: CallOptions = {}): Promise<any> {
    const c = await this.call(command, data, o);
    if (!c.final) throw new Error(`${command}: no reply within ${o.giveUpMs ?? 60_000} ms (${c.attempts} attempts)`);
    if (!c.final.ok) throw new Error(`${command} failed: ${JSON.stringify(c.final.error)}`);
    return c.final.result;
  }

  /**
   * When the first command sent at or after t was answered: replies queued
   * for us before a broker restart, delivered after it, do not count.
   */
  firstReplyAfter(t: number): number | undefined {
    let first: number | undefined;
    for (const c of this.calls.values()) {
      for (const r of c.replies) {
        if (first !== undefined && r.at >= first) continue;
        if (c.sends.some((s) => s >= t && s <= r.at)) first = r.at;
      }
    }
    return first;
  }

  abstract close(): Promise<void>;
  protected abstract send(c: Call): Promise<void>;

  protected setConnected(up: boolean): void {
    this.connected = up;
    if (up) {
      this.connects.push(Date.now());
      const w = this.connectedWaiters;
      this.connectedWaiters = [];
      for (const f of w) f();
    }
  }

  protected onReply(id: string, data: ReplyData): void {
    const c = this.calls.get(id);
    if (!c) return;
    const at = Date.now();
    c.replies.push({ at, data });
    if (c.final || (data.ok === false && data.error?.code === 'IN_PROGRESS')) return;
    c.final = data;
    c.answeredAt = at;
    this.finalWaiters.get(id)?.();
  }

  protected onEvent(ce: { id: string; type: string; data: any }): void {
    if (this.seen.has(ce.id)) {
      this.duplicateEvents++;
      return;
    }
    this.seen.add(ce.id);
    this.events.push({ id: ce.id, type: ce.type, data: ce.data, receivedAt: Date.now() });
  }

  private whenConnected(ms: number): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.connectedWaiters.push(done);
    });
  }

  private waitFinal(id: string, ms: number): Promise<void> {
    if (this.calls.get(id)?.final) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.finalWaiters.delete(id);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.finalWaiters.set(id, done);
    });
  }

  protected envelope(c: Call): Record<string, unknown> {
    return {
      specversion: '1.0',
      id: c.id,
      source: 'fault-orchestrator',
      type: `virtbus.cmd.${c.command}`,
      time: new Date().toISOString(),
      data: c.data,
    };
  }
}

/**
 * RabbitMQ: durable reply and event queues named after tag, declared before
 * the agent starts (so every event of every agent run is kept), manual acks
 * (a delivery lost with the connection comes again), commands published
 * persistent with publisher confirms. Reconnects every reconnectMs.
 *
 * url may be a comma-separated list (cluster nodes): each connect attempt
 * takes the next one, as the agent does. On a cluster the reply and event
 * queues must be quorum queues (queueType): a classic queue lives on one
 * node and is gone while that node is down.
 */
export class AmqpOrchestrator extends Orchestrator {
  private conn?: ChannelModel;
  private ch?: ConfirmChannel;
  private reconnecting?: Promise<void>;
  readonly replyQueue: string;
  readonly eventQueue: string;
  readonly urls: string[];
  /** the client-provided connection name (rabbitmqctl list_connections client_properties) */
  readonly connectionName: string;
  /** the URL of the current (or last) connection */
  url: string;
  private next = 0;

  private constructor(
    url: string,
    node: string,
    readonly tag: string,
    resendMs: number,
    private readonly reconnectMs: number,
    private readonly queueType: 'classic' | 'quorum',
  ) {
    super(node, resendMs);
    this.urls = url
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean);
    this.url = this.urls[0];
    this.replyQueue = `faults.${tag}.replies`;
    this.eventQueue = `faults.${tag}.events`;
    this.connectionName = `faults-orchestrator-${tag}`;
  }

  static async connect(
    url: string,
    node: string,
    o: { tag?: string; resendMs?: number; reconnectMs?: number; queueType?: 'classic' | 'quorum' } = {},
  ): Promise<AmqpOrchestrator> {
    const c = new AmqpOrchestrator(
      url,
      node,
      o.tag ?? node,
      o.resendMs ?? 3000,
      o.reconnectMs ?? 100,
      o.queueType ?? 'classic',
    );
    const failed: string[] = [];
    for (let i = 0; i < c.urls.length; i++) {
      try {
        await c.open();
        return c;
      } catch (e) {
        failed.push(`${c.url.replace(/\/\/[^@]*@/, '//')}: ${(e as Error).message}`);
      }
    }
    throw new Error(`RabbitMQ is not reachable (${failed.join('; ')})`);
  }

  private async open(): Promise<void> {
    this.url = this.urls[this.next++ % this.urls.length];
    const conn = await amqp.connect(this.url, {
      noDelay: true,
      clientProperties: { connection_name: this.connectionName },
    });
    try {
      const ch = await conn.createConfirmChannel();
      await ch.prefetch(1000);
      // the agent declares these too, identically; the client may come first
      await ch.assertExchange('virtbus.events', 'topic', { durable: true });
      await ch.assertExchange('virtbus.commands', 'direct', { durable: true });
      const queue = { durable: true, ...(this.queueType === 'quorum' && { arguments: { 'x-queue-type': 'quorum' } }) };
      await ch.assertQueue(this.replyQueue, queue);
      await ch.assertQueue(this.eventQueue, queue);
      await ch.bindQueue(this.eventQueue, 'virtbus.events', `v1.${this.node}.#`);
      await ch.consume(this.replyQueue, (m) => m && this.delivered(ch, m, true));
      await ch.consume(this.eventQueue, (m) => m && this.delivered(ch, m, false));
      const lost = () => {
        if (this.conn !== conn) return;
        this.conn = undefined;
        this.ch = undefined;
        this.setConnected(false);
        this.reconnect();
      };
      conn.on('close', lost);
      conn.on('error', () => undefined);
      ch.on('error', () => undefined);
      ch.on('close', () => {
        if (this.ch === ch) void conn.close().catch(() => undefined);
      });
      this.conn = conn;
      this.ch = ch;
      this.setConnected(true);
    } catch (e) {
      await conn.close().catch(() => undefined);
      throw e;
    }
  }

  private reconnect(): void {
    if (this.closed || this.reconnecting) return;
    this.reconnecting = (async () => {
      while (!this.closed && !this.conn) {
        await new Promise((r) => setTimeout(r, this.reconnectMs));
        if (this.closed) break;
        await this.open().catch(() => undefined);
      }
    })().finally(() => {
      this.reconnecting = undefined;
    });
  }

  private delivered(ch: ConfirmChannel, m: ConsumeMessage, reply: boolean): void {
    try {
      const body = JSON.parse(m.content.toString('utf8'));
      if (reply) this.onReply(String(m.properties.correlationId), body.data as ReplyData);
      else this.onEvent(body);
    } catch {
      /* not JSON: not ours */
    }
    try {
      ch.ack(m);
    } catch {
      /* channel gone: it comes again */
    }
  }

  protected send(c: Call): Promise<void> {
    const ch = this.ch;
    if (!ch) return Promise.reject(new Error('not connected'));
    return new Promise((resolve, reject) => {
      try {
        ch.publish(
          'virtbus.commands',
          this.node,
          Buffer.from(JSON.stringify(this.envelope(c))),
          {
            messageId: c.id,
            correlationId: c.id,
            replyTo: this.replyQueue,
            contentType: 'application/cloudevents+json',
            persistent: true,
          },
          (err) => (err ? reject(err) : resolve()),
        );
      } catch (e) {
        reject(e as Error);
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.reconnecting;
    const conn = this.conn;
    this.conn = undefined;
    this.ch = undefined;
    if (conn) {
      try {
        const ch = await conn.createChannel();
        await ch.deleteQueue(this.replyQueue);
        await ch.deleteQueue(this.eventQueue);
      } catch {
        /* the private broker goes anyway */
      }
      await conn.close().catch(() => undefined);
    }
  }
}

/**
 * MQTT 5: a persistent session (clean start off, fixed client id, 1 h
 * expiry) holding the reply topic and the node's events at QoS 1; mqtt.js
 * reconnects every reconnectMs and re-sends its unacknowledged publishes.
 * Replies and events arrive in CloudEvents binary mode.
 */
export class MqttOrchestrator extends Orchestrator {
  readonly replyTopic: string;
  readonly clientId: string;

  private constructor(
    readonly client: MqttClient,
    node: string,
    tag: string,
    resendMs: number,
  ) {
    super(node, resendMs);
    this.replyTopic = `faults/${tag}/replies`;
    this.clientId = `faults-${tag}`;
  }

  static async connect(
    url: string,
    node: string,
    o: { tag?: string; resendMs?: number; reconnectMs?: number } = {},
  ): Promise<MqttOrchestrator> {
    const tag = o.tag ?? node;
    const client = mqtt.connect(url, {
      protocolVersion: 5,
      clientId: `faults-${tag}`,
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
      reconnectPeriod: o.reconnectMs ?? 100,
      connectTimeout: 3000,
      keepalive: 10,
    });
    const c = new MqttOrchestrator(client, node, tag, o.resendMs ?? 3000);
    client.on('error', () => undefined);
    client.on('close', () => c.setConnected(false));
    client.on('message', (topic, payload, packet) =>
      c.message(topic, payload, (packet.properties ?? {}) as Record<string, any>),
    );
    const first = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`Mosquitto is not reachable at ${url}`)), 10_000);
      client.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
    });
    client.on('connect', (connack) => {
      (client.stream as unknown as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
      if (connack.sessionPresent) {
        c.setConnected(true);
        return;
      }
      client.subscribeAsync([c.replyTopic, `virtbus/v1/${node}/+/+/+`], { qos: 1 }).then(
        () => c.setConnected(true),
        () => undefined,
      );
    });
    try {
      await first;
    } catch (e) {
      client.end(true);
      throw e;
    }
    while (!c.connected) await new Promise((r) => setTimeout(r, 10));
    return c;
  }

  private message(topic: string, payload: Buffer, props: Record<string, any>): void {
    const user = (props.userProperties ?? {}) as Record<string, string>;
    let data: any;
    try {
      data = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    // binary mode: attributes in user properties; structured: the envelope is the payload
    const ce = user.specversion ? { id: user.id, type: user.type, data } : data;
    if (topic === this.replyTopic) {
      const id = props.correlationData ? Buffer.from(props.correlationData).toString('utf8') : String(ce.correlationid);
      this.onReply(id, ce.data as ReplyData);
    } else {
      this.onEvent(ce);
    }
  }

  protected send(c: Call): Promise<void> {
    return this.client
      .publishAsync(`virtbus/v1/${this.node}/cmd`, JSON.stringify(this.envelope(c)), {
        qos: 1,
        properties: {
          responseTopic: this.replyTopic,
          correlationData: Buffer.from(c.id),
          contentType: 'application/cloudevents+json',
        },
      })
      .then(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.client.endAsync(true).catch(() => undefined);
  }
}
