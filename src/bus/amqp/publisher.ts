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

interface Entry extends PublishRequest {
  resolve(): void;
  reject(err: Error): void;
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
const SHORTSTR_PROPS = ['messageId', 'correlationId', 'replyTo', 'contentType', 'contentEncoding', 'type', 'appId', 'userId', 'expiration'] as const;

function validate(r: PublishRequest, maxBytes: number): Error | undefined {
  if (r.body.length > maxBytes) {
    return new RangeError(`message of ${r.body.length} bytes exceeds maxMessageBytes ${maxBytes} (${r.exchange || 'default exchange'} / ${r.routingKey})`);
  }
  if (Buffer.byteLength(r.routingKey) > 255) return new RangeError(`routing key longer than 255 bytes: ${r.routingKey.slice(0, 64)}…`);
  for (const p of SHORTSTR_PROPS) {
    const v = r.options[p];
    if (typeof v === 'string' && Buffer.byteLength(v) > 255) return new RangeError(`AMQP property ${p} longer than 255 bytes`);
  }
  return undefined;
}

export class ConfirmPublisher {
  /** FIFO of messages not on the wire (yet, or again after a lost channel) */
  private waiting: Entry[] = [];
  /** on the wire, confirm pending; insertion order = publish order */
  private readonly unconfirmed = new Set<Entry>();
  private target?: Target;
  private closedWith?: Error;
  private peak = 0;
  private idleWaiters: Array<(ok: boolean) => void> = [];

  constructor(private readonly o: ConfirmPublisherOptions) {}

  /** messages published and not yet confirmed */
  get inFlight(): number { return this.unconfirmed.size; }

  /** the highest inFlight ever reached (a gauge for metrics and tests) */
  get peakInFlight(): number { return this.peak; }

  /** messages waiting to be published */
  get queued(): number { return this.waiting.length; }

  /** Resolves once the broker confirmed the message; waits through disconnections. */
  publish(r: PublishRequest): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const invalid = validate(r, this.o.maxMessageBytes);
    if (invalid) return Promise.reject(invalid);
    if (this.waiting.length >= this.o.maxQueued) {
      return Promise.reject(new Error(`AMQP publish queue full (${this.o.maxQueued} waiting${this.target ? '' : ', broker disconnected'})`));
    }
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ ...r, resolve, reject });
      this.pump();
    });
  }

  /**
   * Publishes on this confirm channel from now on. `broken` is called when
   * the channel misbehaved in a way that corrupts confirm bookkeeping; the
   * owner must then close the connection (which detaches us).
   */
  attach(ch: ConfirmChannel, conn: EventEmitter, broken: (err: Error) => void): void {
    this.detach();
    const onDrain = () => { t.writable = true; this.pump(); };
    const onBlocked = () => { t.blocked = true; };
    const onUnblocked = () => { t.blocked = false; this.pump(); };
    const onClose = () => { if (this.target === t) this.detach(); };
    ch.on('drain', onDrain);
    ch.on('close', onClose);
    conn.on('blocked', onBlocked);
    conn.on('unblocked', onUnblocked);
    const t: Target = {
      ch, conn, writable: true, blocked: false, broken,
      unlisten: () => {
        ch.off('drain', onDrain); ch.off('close', onClose);
        conn.off('blocked', onBlocked); conn.off('unblocked', onUnblocked);
      },
    };
    this.target = t;
    this.pump();
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
    this.target = undefined;
    if (this.unconfirmed.size > 0) {
      this.waiting = [...this.unconfirmed, ...this.waiting];
      this.unconfirmed.clear();
    }
    // Without a channel nothing can get confirmed; flush() should not sit out its timeout.
    this.settleIdleWaiters(this.isIdle());
  }

  /**
   * Waits until everything queued is confirmed, at most timeoutMs. Resolves
   * false on timeout or when there is (or stops being) no channel to make
   * progress on.
   */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.isIdle()) return Promise.resolve(true);
    if (!this.target) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean) => { clearTimeout(timer); this.idleWaiters = this.idleWaiters.filter((w) => w !== done); resolve(ok); };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.idleWaiters.push(done);
    });
  }

  /** Rejects everything pending and every later publish with err. */
  close(err: Error): void {
    this.closedWith ??= err;
    this.detach();
    const pending = this.waiting;
    this.waiting = [];
    for (const e of pending) e.reject(this.closedWith);
    this.notifyIfIdle();
  }

  private isIdle(): boolean { return this.waiting.length === 0 && this.unconfirmed.size === 0; }

  private notifyIfIdle(): void {
    if (this.isIdle()) this.settleIdleWaiters(true);
  }

  private settleIdleWaiters(ok: boolean): void {
    const ws = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of ws) w(ok);
  }

  private pump(): void {
    const t = this.target;
    if (!t) return;
    while (t.writable && !t.blocked && this.target === t && this.unconfirmed.size < this.o.maxInFlight && this.waiting.length > 0) {
      const e = this.waiting.shift()!;
      e.ch = t.ch;
      this.unconfirmed.add(e);
      if (this.unconfirmed.size > this.peak) this.peak = this.unconfirmed.size;
      try {
        // false: the socket buffer is full; the message is still sent, but
        // we stop feeding it until 'drain' instead of buffering unboundedly.
        if (!t.ch.publish(e.exchange, e.routingKey, e.body, e.options, (err) => this.confirmed(t.ch, e, err))) t.writable = false;
      } catch (err) {
        t.writable = false;
        // IllegalOperationError: the channel is closing or closed; its
        // 'close' detaches us and the entry is republished later. Anything
        // else was thrown mid-publish after amqplib registered the confirm
        // callback: refuse this one message and have the channel replaced.
        if ((err as Error).name !== 'IllegalOperationError') {
          this.unconfirmed.delete(e);
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
    if (e.ch !== ch || !this.unconfirmed.has(e)) return;
    if (err == null) {
      this.unconfirmed.delete(e);
      e.resolve();
    } else if ((err as Error).message === 'message nacked') {
      this.unconfirmed.delete(e);
      e.reject(new Error(`broker refused (basic.nack) the message to ${e.exchange || 'default exchange'} / ${e.routingKey}`));
    } else {
      // 'channel closed': stays unconfirmed; detach() requeues it.
      return;
    }
    this.pump();
    this.notifyIfIdle();
  }
}
