import amqp, { type Channel, type ChannelModel } from 'amqplib';
import type { CloudEvent } from '../contract/envelope';
import type { ReplyData } from '../contract/events';
import {
  BROADCAST_EXCHANGE,
  COMMANDS_EXCHANGE,
  EVENTS_EXCHANGE,
  eventBindingKey,
  presenceBindingKey,
} from '../contract/addresses';
import { withTimeout } from '../timeout';
import {
  BROADCAST_TARGET,
  commandEnvelope,
  firstReachable,
  signingFor,
  type CallOptions,
  type ClientOptions,
  type PresenceOptions,
  type PresenceSeen,
  type VirtbusClient,
} from './types';
import { presenceOf } from './presence';
import { readPresenceLog } from '../bus/amqp/presence-stream';
import { credentialsOf, tlsOptions, withCredentials, type Endpoint } from '../endpoint';

export class AmqpClient implements VirtbusClient {
  private readonly pending = new Map<string, (r: ReplyData) => void>();
  private readonly broadcasts = new Map<string, (e: CloudEvent) => void>();
  readonly lost: Promise<void>;

  private constructor(
    private readonly o: ClientOptions,
    private readonly conn: ChannelModel,
    private readonly ch: Channel,
    private readonly replyQueue: string,
    /** user_id on every command (agents with trusted senders check it) */
    private readonly userId: string | undefined,
  ) {
    this.lost = new Promise((resolve) => {
      conn.once('close', () => resolve());
      conn.once('error', () => resolve());
    });
  }

  static async connect(o: ClientOptions, e: Endpoint): Promise<AmqpClient> {
    let userId = o.userId;
    const conn = await firstReachable(e, async (url) => {
      const external = o.auth === 'external';
      const c = await amqp.connect(external ? url : withCredentials(url, e), {
        noDelay: true,
        ...tlsOptions(e),
        ...(external && { credentials: amqp.credentials.external() }),
      });
      userId ??= credentialsOf(url, e).username;
      return c;
    });
    conn.on('error', () => undefined); // reported through `lost`
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    const c = new AmqpClient(o, conn, ch, queue, userId);
    await ch.consume(
      queue,
      (m) => {
        if (!m) return;
        const env = JSON.parse(m.content.toString()) as CloudEvent;
        c.broadcasts.get(m.properties.correlationId)?.(env);
        const done = c.pending.get(m.properties.correlationId);
        if (!done) return;
        c.pending.delete(m.properties.correlationId);
        done(env.data as ReplyData);
      },
      { noAck: true },
    );
    return c;
  }

  async call(command: string, data?: unknown, o: CallOptions = {}): Promise<ReplyData> {
    const node = o.node ?? this.o.node;
    const env = commandEnvelope(command, data, this.o.source ?? 'virtbus-cli', {
      ...o,
      ...signingFor(this.o, node),
    });
    const reply = new Promise<ReplyData>((resolve) => this.pending.set(env.id, resolve));
    this.ch.publish(COMMANDS_EXCHANGE, node, Buffer.from(JSON.stringify(env)), {
      contentType: 'application/cloudevents+json',
      messageId: env.id,
      correlationId: env.id,
      replyTo: this.replyQueue,
      ...(this.userId !== undefined && { userId: this.userId }),
    });
    return withTimeout(reply, o.timeoutMs ?? 30000, `reply from node ${node}`).finally(() =>
      this.pending.delete(env.id),
    );
  }

  async broadcast(command: string, data: unknown, onReply: (reply: CloudEvent) => void): Promise<() => void> {
    const env = commandEnvelope(command, data, this.o.source ?? 'virtbus-cli', signingFor(this.o, BROADCAST_TARGET));
    this.broadcasts.set(env.id, onReply);
    this.ch.publish(BROADCAST_EXCHANGE, '', Buffer.from(JSON.stringify(env)), {
      contentType: 'application/cloudevents+json',
      messageId: env.id,
      correlationId: env.id,
      replyTo: this.replyQueue,
      ...(this.userId !== undefined && { userId: this.userId }),
    });
    return () => this.broadcasts.delete(env.id);
  }

  async watch(onEvent: (e: CloudEvent) => void, node = this.o.node): Promise<void> {
    const { queue } = await this.ch.assertQueue('', { exclusive: true, autoDelete: true });
    await this.ch.bindQueue(queue, EVENTS_EXCHANGE, eventBindingKey(node));
    await this.ch.consume(
      queue,
      (m) => {
        if (m) onEvent(JSON.parse(m.content.toString()) as CloudEvent);
      },
      { noAck: true },
    );
  }

  async watchPresence(onPresence: (e: CloudEvent) => void): Promise<void> {
    const { queue } = await this.ch.assertQueue('', { exclusive: true, autoDelete: true });
    for (const ev of ['online', 'heartbeat', 'offline'] as const)
      await this.ch.bindQueue(queue, EVENTS_EXCHANGE, presenceBindingKey(ev));
    await this.ch.consume(
      queue,
      (m) => {
        if (m) onPresence(JSON.parse(m.content.toString()) as CloudEvent);
      },
      { noAck: true },
    );
  }

  /** The presence log (a stream) from windowMs ago: the latest record per node wins. */
  async presence(o: PresenceOptions = {}): Promise<PresenceSeen[]> {
    const latest = new Map<string, PresenceSeen>();
    await readPresenceLog(
      this.conn,
      Date.now() - (o.windowMs ?? 300_000),
      (r) => {
        const p = presenceOf(r.body, 'heartbeats', r.contentType);
        if (p && p.node === r.node) latest.set(p.node, p);
      },
      o,
    );
    return [...latest.values()];
  }

  async close(): Promise<void> {
    await this.conn.close().catch(() => undefined);
  }
}
