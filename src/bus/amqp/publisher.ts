// Publishing with publisher confirms and a bounded in-flight window.
//
// A publish resolves only once the broker has taken responsibility for the
// message (basic.ack) and rejects when it refuses it (basic.nack). Messages
// published on a channel that dies before its confirm arrived may or may not
// have reached the broker; they are published again on the next channel
// (at-least-once — events carry message_id, replies correlation_id, so
// consumers can drop duplicates).
import type { EventEmitter } from 'node:events';
import type { ConfirmChannel, Options } from 'amqplib';
import { PublishWindow, type Settle } from '../publish-window';

export interface PublishRequest {
  exchange: string;
  routingKey: string;
  body: Buffer;
  options: Options.Publish;
}

export interface ConfirmPublisherOptions {
  /** published but not yet confirmed, at most */
  maxInFlight: number;
  /** waiting to be published (for a window slot, a drain, an unblock or a reconnect), at most */
  maxQueued: number;
  /** larger bodies are refused before they reach the broker */
  maxMessageBytes: number;
}

interface Entry extends PublishRequest, Settle {
  /** the channel it was last published on */
  ch?: ConfirmChannel;
}

interface Target {
  ch: ConfirmChannel;
  /** emits 'blocked' / 'unblocked' (the amqplib ChannelModel) */
  conn: EventEmitter;
  /** the channel's socket buffer accepts more (false after publish() returned false, until 'drain') */
  writable: boolean;
  /** the broker asked us to stop publishing (connection.blocked, e.g. memory or disk alarm) */
  blocked: boolean;
  /** the channel can no longer be trusted; the owner should drop the connection */
  broken: (err: Error) => void;
  unlisten(): void;
}

// Properties AMQP encodes as shortstr; amqplib would throw while encoding
// *after* it registered the confirm callback, shifting every later confirm
// onto the wrong message. Checked up front instead.
const SHORTSTR_PROPS: ReadonlySet<string> = new Set([
  'messageId',
  'correlationId',
  'replyTo',
  'contentType',
  'contentEncoding',
  'type',
  'appId',
  'userId',
  'expiration',
] satisfies Array<keyof Options.Publish>);

/**
 * More than an AMQP short string holds (255 bytes of UTF-8). A UTF-16 code
 * unit is at most 3 bytes of UTF-8, so a string of 85 units or fewer fits
 * without being measured (every publish checks its routing key and properties).
 */
const overShortstr = (s: string) => s.length > 85 && Buffer.byteLength(s) > 255;

function validate(r: PublishRequest, maxBytes: number): Error | undefined {
  if (r.body.length > maxBytes) {
    return new RangeError(
      `message of ${r.body.length} bytes exceeds maxMessageBytes ${maxBytes} (${r.exchange || 'default exchange'} / ${r.routingKey})`,
    );
  }
  if (overShortstr(r.routingKey))
    return new RangeError(`routing key longer than 255 bytes: ${r.routingKey.slice(0, 64)}…`);
  // the options' own few keys, not a lookup of each short-string property (most are absent)
  const options = r.options as Record<string, unknown>;
  for (const p in options) {
    const v = options[p];
    if (typeof v === 'string' && SHORTSTR_PROPS.has(p) && overShortstr(v))
      return new RangeError(`AMQP property ${p} longer than 255 bytes`);
  }
  return undefined;
}

export class ConfirmPublisher extends PublishWindow<Entry, Target> {
  constructor(private readonly o: ConfirmPublisherOptions) {
    super(o, 'AMQP');
  }

  /** Resolves once the broker confirmed the message; waits through disconnections. */
  publish(r: PublishRequest): Promise<void> {
    return this.enqueue(r, validate(r, this.o.maxMessageBytes));
  }

  /**
   * Publishes on this confirm channel from now on. `broken` is called when
   * the channel misbehaved in a way that corrupts confirm bookkeeping; the
   * owner must then close the connection (which detaches us).
   */
  attach(ch: ConfirmChannel, conn: EventEmitter, broken: (err: Error) => void): void {
    this.detach();
    const onDrain = () => {
      t.writable = true;
      this.pump();
    };
    const onBlocked = () => {
      t.blocked = true;
    };
    const onUnblocked = () => {
      t.blocked = false;
      this.pump();
    };
    const onClose = () => {
      if (this.target === t) this.detach();
    };
    ch.on('drain', onDrain);
    ch.on('close', onClose);
    conn.on('blocked', onBlocked);
    conn.on('unblocked', onUnblocked);
    const t: Target = {
      ch,
      conn,
      writable: true,
      blocked: false,
      broken,
      unlisten: () => {
        ch.off('drain', onDrain);
        ch.off('close', onClose);
        conn.off('blocked', onBlocked);
        conn.off('unblocked', onUnblocked);
      },
    };
    this.use(t);
  }

  /**
   * The channel is gone (or is being given up): whatever it did not confirm
   * goes back to the front of the queue, in order. With ch, only if that is
   * still the channel in use.
   */
  detach(ch?: ConfirmChannel): void {
    const t = this.target;
    if (!t || (ch && t.ch !== ch)) return;
    t.unlisten();
    this.release();
  }

  protected detachTarget(): void {
    this.detach();
  }

  protected describe(e: Entry): string {
    return `the message to ${e.exchange || 'default exchange'} / ${e.routingKey.slice(0, 128)}`;
  }

  protected pump(): void {
    const t = this.target;
    if (!t) return;
    while (
      t.writable &&
      !t.blocked &&
      this.target === t &&
      this.inflight.size < this.window(this.o.maxInFlight) &&
      this.waiting.length > 0
    ) {
      const e = this.take();
      e.ch = t.ch;
      try {
        // false: the socket buffer is full; the message is still sent, but
        // we stop feeding it until 'drain' instead of buffering unboundedly.
        if (!t.ch.publish(e.exchange, e.routingKey, e.body, e.options, (err) => this.confirmed(t.ch, e, err)))
          t.writable = false;
      } catch (err) {
        t.writable = false;
        // IllegalOperationError: the channel is closing or closed; its
        // 'close' detaches us and the entry is republished later. Anything
        // else was thrown mid-publish after amqplib registered the confirm
        // callback: refuse this one message and have the channel replaced.
        if ((err as Error).name !== 'IllegalOperationError') {
          this.inflight.delete(e);
          e.reject(err as Error);
          t.broken(err as Error);
        }
        return;
      }
    }
  }

  private confirmed(ch: ConfirmChannel, e: Entry, err: unknown): void {
    // Late callbacks of a channel we already left (its unconfirmed messages
    // were requeued) must not settle the republished copy.
    if (e.ch !== ch || !this.inflight.has(e)) return;
    if (err == null) {
      this.settle(e);
    } else if ((err as Error).message === 'message nacked') {
      this.settle(
        e,
        new Error(`broker refused (basic.nack) the message to ${e.exchange || 'default exchange'} / ${e.routingKey}`),
      );
    }
    // else 'channel closed': stays unconfirmed; detach() requeues it.
  }
}
