// The bookkeeping both transports need for publishing with broker
// acknowledgements (AMQP publisher confirms, MQTT QoS 1 PUBACK): a FIFO of
// messages waiting to go out, a bounded set on the wire awaiting the broker's
// word, requeueing in order when the connection is lost (at-least-once), and
// waiting until all is acknowledged. Subclasses only know how to send on
// their kind of connection (pump) and what an acknowledgement looks like.

export interface Settle {
  resolve(): void;
  reject(err: Error): void;
  /** connections lost while this was the only message on the wire */
  losses?: number;
  /** on the wire with others when a connection was lost: republished alone until acknowledged */
  suspect?: boolean;
}

/**
 * A message that was alone on the wire when the connection dropped, this
 * many times, is taken to be what the broker refuses (Mosquitto closes the
 * connection on a malformed packet; RabbitMQ closes the channel): it is
 * dropped so everything behind it can go on. A broker restart costs an
 * innocent message one loss, so it takes this many in a row to lose one.
 */
export const MAX_LOSSES = 3;

/** A message dropped after MAX_LOSSES; the owner logs it and counts it. */
export class PublishDroppedError extends Error {
  constructor(protocol: string, what: string) {
    super(
      `${protocol}: the broker dropped the connection each of the ${MAX_LOSSES} times ${what} was published alone; it is dropped so the rest can go on`,
    );
    this.name = 'PublishDroppedError';
  }
}

export interface WindowLimits {
  /** on the wire, acknowledgement pending, at most */
  maxInFlight: number;
  /** waiting for a slot or a connection, at most */
  maxQueued: number;
}

export abstract class PublishWindow<E extends Settle, T> {
  /** FIFO of messages not on the wire (yet, or again after a lost connection) */
  protected waiting: E[] = [];
  /** on the wire, acknowledgement pending; insertion order = publish order */
  protected readonly inflight = new Set<E>();
  protected target?: T;
  private closedWith?: Error;
  private peak = 0;
  private idleWaiters: Array<(ok: boolean) => void> = [];
  /** requeued entries still marked suspect: while > 0, one message at a time */
  private suspects = 0;
  /** messages dropped after MAX_LOSSES */
  dropped = 0;
  /** told about every dropped message (the transport logs and counts it) */
  onDropped?: (err: PublishDroppedError) => void;

  constructor(
    protected readonly limits: WindowLimits,
    private readonly protocol: string,
  ) {}

  /** messages published and not yet acknowledged */
  get inFlight(): number {
    return this.inflight.size;
  }

  /** the highest inFlight ever reached (a gauge for metrics and tests) */
  get peakInFlight(): number {
    return this.peak;
  }

  /** messages waiting to be published */
  get queued(): number {
    return this.waiting.length;
  }

  /** Queues a message (refused at once when closed, invalid or the queue is full); resolves on acknowledgement. */
  protected enqueue(entry: Omit<E, keyof Settle>, invalid?: Error): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (invalid) return Promise.reject(invalid);
    if (this.waiting.length >= this.limits.maxQueued) {
      return Promise.reject(
        new Error(
          `${this.protocol} publish queue full (${this.limits.maxQueued} waiting${this.target ? '' : ', broker disconnected'})`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ ...entry, resolve, reject } as E);
      this.pump();
    });
  }

  /** How many may be on the wire now: one at a time while a lost connection's messages are being told apart. */
  protected window(max: number): number {
    return this.suspects > 0 ? 1 : max;
  }

  /** How an entry is named in a drop message (topic, exchange and routing key). */
  protected abstract describe(e: E): string;

  /** Moves the next waiting message onto the wire's books. */
  protected take(): E {
    const e = this.waiting.shift()!;
    this.inflight.add(e);
    if (this.inflight.size > this.peak) this.peak = this.inflight.size;
    return e;
  }

  /** The broker's word on a message: resolved, or refused with err. */
  protected settle(e: E, err?: Error): void {
    this.inflight.delete(e);
    if (e.suspect) {
      e.suspect = false;
      this.suspects--;
    }
    if (err) e.reject(err);
    else e.resolve();
    this.pump();
    this.notifyIfIdle();
  }

  /** Publishes on t from now on. */
  protected use(t: T): void {
    this.target = t;
    this.pump();
  }

  /**
   * The connection is gone (or being given up): what it did not acknowledge
   * goes back to the front of the queue, in order.
   */
  protected release(): void {
    this.target = undefined;
    const lost = [...this.inflight];
    this.inflight.clear();
    if (lost.length === 1) {
      const e = lost[0];
      e.losses = (e.losses ?? 0) + 1;
      if (e.losses >= MAX_LOSSES) {
        if (e.suspect) {
          e.suspect = false;
          this.suspects--;
        }
        lost.length = 0;
        const err = new PublishDroppedError(this.protocol, this.describe(e));
        this.dropped++;
        e.reject(err);
        this.onDropped?.(err);
      }
    } else {
      for (const e of lost)
        if (!e.suspect) {
          e.suspect = true;
          this.suspects++;
        }
    }
    if (lost.length > 0) this.waiting = [...lost, ...this.waiting];
    // Nothing can get acknowledged now; flush() should not sit out its timeout.
    this.settleIdleWaiters(this.isIdle());
  }

  /** Waits until everything is acknowledged, at most timeoutMs; false on timeout or without a connection. */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.isIdle()) return Promise.resolve(true);
    if (!this.target) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.idleWaiters.push(done);
    });
  }

  /** Rejects everything pending (in flight too) and every later publish with err. */
  close(err: Error): void {
    this.closedWith ??= err;
    if (this.target !== undefined) this.detachTarget();
    const pending = this.waiting;
    this.waiting = [];
    this.suspects = 0;
    for (const e of pending) e.reject(this.closedWith);
    this.notifyIfIdle();
  }

  protected isIdle(): boolean {
    return this.waiting.length === 0 && this.inflight.size === 0;
  }

  private notifyIfIdle(): void {
    if (this.isIdle()) this.settleIdleWaiters(true);
  }

  private settleIdleWaiters(ok: boolean): void {
    const ws = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of ws) w(ok);
  }

  /** Sends waiting messages while the window and the connection allow. */
  protected abstract pump(): void;
  /** Leaves the current connection (listeners off) and calls release(). */
  protected abstract detachTarget(): void;
}
