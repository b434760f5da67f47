// Everything that lives and dies with one AMQP connection: a confirm channel
// for publishing, a separate channel for consuming (so a flood of
// deliveries and their acks never queues behind publishes, and the consume
// prefetch does not interact with confirms), the declared topology, and the
// consumers. Any failure of any part ends the whole session: recovery is
// always "new connection, declare everything again", one code path.
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { InboundMessage } from '../transport';
import { openConnection, type ConnectOptions } from './connection';
import { declareTopology, type DeclaredTopology } from './topology';

export interface SessionOptions extends ConnectOptions {
  prefetch: number;
  deliveryLimit: number;
  topology: 'declare' | 'passive';
}

export type SessionConsumer = (msg: ConsumeMessage, origin: InboundMessage['origin']) => void;

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * amqplib's close() waits for the broker's CloseOk; on a connection that
 * died silently (until heartbeats notice) that never comes, so each close
 * step gets a bound and a failure is as good as done.
 */
function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    p.then(
      () => undefined,
      () => undefined,
    ).finally(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

const CLOSE_STEP_MS = 2000;

export class AmqpSession {
  /** resolves (never rejects) with the reason once the session is unusable */
  readonly lost: Promise<string>;
  private lostReason?: string;
  private resolveLost!: (reason: string) => void;
  private closing = false;
  private consumeChannelOpen = true;
  private consumerTags: string[] = [];
  topology!: DeclaredTopology;
  publishChannel!: ConfirmChannel;
  consumeChannel!: Channel;

  private constructor(readonly model: ChannelModel) {
    this.lost = new Promise((resolve) => {
      this.resolveLost = resolve;
    });
    // 'error' precedes 'close' with the same cause; whichever comes first names it.
    model.on('error', (err: unknown) => this.markLost(`connection error: ${describe(err)}`));
    model.on('close', (err?: unknown) =>
      this.markLost(err ? `connection closed: ${describe(err)}` : 'connection closed'),
    );
  }

  /** Connects, opens both channels and declares the topology; closes the connection again if any step fails. */
  static async open(o: SessionOptions): Promise<AmqpSession> {
    const s = new AmqpSession(await openConnection(o));
    try {
      s.consumeChannel = s.watch(await s.model.createChannel(), 'consume');
      s.consumeChannel.on('close', () => {
        s.consumeChannelOpen = false;
      });
      s.publishChannel = s.watch(await s.model.createConfirmChannel(), 'publish');
      // Non-global prefetch = per consumer (RabbitMQ): each of the two queues gets its own window.
      await s.consumeChannel.prefetch(o.prefetch);
      s.topology = await declareTopology(s.model, s.consumeChannel, {
        nodeId: o.nodeId,
        deliveryLimit: o.deliveryLimit,
        mode: o.topology,
      });
      if (s.lostReason) throw new Error(s.lostReason);
      return s;
    } catch (err) {
      await s.close();
      throw err;
    }
  }

  get isLost(): boolean {
    return this.lostReason !== undefined;
  }

  /** false once the consume channel closed: its delivery tags mean nothing any more */
  get canSettle(): boolean {
    return this.consumeChannelOpen;
  }

  /** Starts consuming the node's command queue and this agent's broadcast queue. */
  async consume(onMessage: SessionConsumer): Promise<void> {
    const queues: Array<[string, InboundMessage['origin']]> = [
      [this.topology.commandQueue, 'node'],
      [this.topology.broadcastQueue, 'broadcast'],
    ];
    for (const [queue, origin] of queues) {
      const { consumerTag } = await this.consumeChannel.consume(queue, (msg) => {
        // null: the broker cancelled the consumer (queue deleted, node
        // failure). Nothing more arrives on it, so treat it like a lost
        // connection: reconnecting redeclares the queue and consumes anew.
        if (msg === null) this.markLost(`consumer of ${queue} cancelled by the broker`);
        else onMessage(msg, origin);
      });
      this.consumerTags.push(consumerTag);
    }
  }

  /** basic.cancel for both consumers; unacked deliveries stay ackable. */
  async cancelConsumers(): Promise<void> {
    const tags = this.consumerTags;
    this.consumerTags = [];
    for (const tag of tags) await this.consumeChannel.cancel(tag);
  }

  /** Closes channels, then the connection. Never throws: a session being closed may already be half dead. */
  async close(): Promise<void> {
    this.closing = true;
    this.markLost('closed by the client');
    for (const ch of [this.publishChannel, this.consumeChannel]) {
      if (ch) await settleWithin(ch.close(), CLOSE_STEP_MS);
    }
    await settleWithin(this.model.close(), CLOSE_STEP_MS);
  }

  /** Ends the session from outside (e.g. the publisher found the channel unusable). */
  abandon(reason: string): void {
    this.markLost(reason);
  }

  private watch<C extends Channel>(ch: C, role: string): C {
    ch.on('error', (err: unknown) => this.markLost(`${role} channel error: ${describe(err)}`));
    ch.on('close', () => this.markLost(`${role} channel closed`));
    return ch;
  }

  private markLost(reason: string): void {
    if (this.lostReason !== undefined) return;
    this.lostReason = reason;
    this.resolveLost(reason);
    // One dead part means a dead session: drop the connection so the other
    // channel, the exclusive broadcast queue and unacked deliveries go too
    // (the broker requeues those) and the reconnect starts from scratch.
    if (!this.closing) this.model.close().catch(() => undefined);
  }
}
