// QoS 1 publishing with a bounded in-flight window and a bounded queue.
//
// A publish resolves once the broker sent PUBACK (it has taken the message)
// and rejects when it refused it (MQTT 5 reason code >= 0x80, e.g. not
// authorized, quota exceeded). A message whose connection died before its
// PUBACK may or may not have reached the broker: it is published again on
// the next connection (at-least-once; events carry the CloudEvents id, replies
// the correlation data, so consumers can drop duplicates). mqtt.js's own
// resend-on-reconnect is not used: each connection is a new mqtt.js client.
import type { IClientPublishOptions, PacketCallback } from 'mqtt';

export interface PublishRequest {
  topic: string;
  payload: Buffer;
  options: IClientPublishOptions;
}

/** Where messages go: one live connection. */
export interface PublishTarget {
  /** cb on PUBACK or refusal; never called if the connection is (or gets) lost first */
  publish(topic: string, payload: Buffer, opts: IClientPublishOptions, cb: PacketCallback): void;
  readonly isLost: boolean;
  /** the broker's Receive Maximum (MQTT 5); exceeding it is a protocol error that costs the connection */
  readonly brokerReceiveMaximum: number;
  /** the broker's Maximum Packet Size (MQTT 5), if it said */
  readonly brokerMaximumPacketSize?: number;
}

export interface AckPublisherOptions {
  /** published but not yet PUBACKed, at most */
  maxInFlight: number;
  /** waiting for a window slot or a connection, at most */
  maxQueued: number;
  /** larger payloads are refused before they reach the broker */
  maxMessageBytes: number;
}

interface Entry extends PublishRequest {
  resolve(): void;
  reject(err: Error): void;
  /** the connection it was last published on */
  target?: PublishTarget;
}

/** Fixed header, packet id and property framing, generously; the topic and properties are counted separately. */
const PACKET_OVERHEAD = 64;

function packetBytes(r: PublishRequest): number {
  const props = r.options.properties;
  return PACKET_OVERHEAD + Buffer.byteLength(r.topic) + r.payload.length + (props ? Buffer.byteLength(JSON.stringify(props)) : 0);
}

export class AckPublisher {
  /** FIFO of messages not on the wire (yet, or again after a lost connection) */
  private waiting: Entry[] = [];
  /** on the wire, PUBACK pending; insertion order = publish order */
  private readonly unacked = new Set<Entry>();
  private target?: PublishTarget;
  private closedWith?: Error;
  private idleWaiters: Array<(ok: boolean) => void> = [];

  constructor(private readonly o: AckPublisherOptions) {}

  get inFlight(): number { return this.unacked.size; }

  get queued(): number { return this.waiting.length; }

  /** Resolves on PUBACK; waits through disconnections. */
  publish(r: PublishRequest): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (r.payload.length > this.o.maxMessageBytes) {
      return Promise.reject(new RangeError(`message of ${r.payload.length} bytes exceeds maxMessageBytes ${this.o.maxMessageBytes} (${r.topic})`));
    }
    if (this.waiting.length >= this.o.maxQueued) {
      return Promise.reject(new Error(`MQTT publish queue full (${this.o.maxQueued} waiting${this.target ? '' : ', broker disconnected'})`));
    }
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ ...r, resolve, reject });
      this.pump();
    });
  }

  /** Publishes on this connection from now on. */
  attach(t: PublishTarget): void {
    this.detach();
    this.target = t;
    this.pump();
  }

  /**
   * The connection is gone (or being given up): what it did not PUBACK goes
   * back to the front of the queue, in order. With t, only if that is still
   * the connection in use. Call before ending the connection, so that
   * callbacks of its last moments are ignored.
   */
  detach(t?: PublishTarget): void {
    if (!this.target || (t && this.target !== t)) return;
    this.target = undefined;
    if (this.unacked.size > 0) {
      this.waiting = [...this.unacked, ...this.waiting];
      this.unacked.clear();
    }
    // Nothing can get acknowledged now; flush() should not sit out its timeout.
    this.settleIdleWaiters(this.isIdle());
  }

  /** Waits until everything is PUBACKed, at most timeoutMs; false on timeout or without a connection. */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.isIdle()) return Promise.resolve(true);
    if (!this.target) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean) => { clearTimeout(timer); this.idleWaiters = this.idleWaiters.filter((w) => w !== done); resolve(ok); };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.idleWaiters.push(done);
    });
  }

  /** Rejects everything pending (in flight too) and every later publish with err. */
  close(err: Error): void {
    this.closedWith ??= err;
    this.detach();
    const pending = this.waiting;
    this.waiting = [];
    for (const e of pending) e.reject(this.closedWith);
    this.settleIdleWaiters(true);
  }

  private isIdle(): boolean { return this.waiting.length === 0 && this.unacked.size === 0; }

  private settleIdleWaiters(ok: boolean): void {
    const ws = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of ws) w(ok);
  }

  private pump(): void {
    const t = this.target;
    if (!t) return;
    const window = Math.min(this.o.maxInFlight, t.brokerReceiveMaximum);
    while (this.target === t && this.unacked.size < window && this.waiting.length > 0) {
      const e = this.waiting.shift()!;
      // Too big for the broker: it would drop the connection, we would
      // reconnect and publish it again, forever.
      if (t.brokerMaximumPacketSize !== undefined && packetBytes(e) > t.brokerMaximumPacketSize) {
        e.reject(new RangeError(`message to ${e.topic} exceeds the broker's maximum packet size ${t.brokerMaximumPacketSize}`));
        continue;
      }
      e.target = t;
      this.unacked.add(e);
      t.publish(e.topic, e.payload, e.options, (err) => this.acked(t, e, err));
    }
  }

  private acked(t: PublishTarget, e: Entry, err: Error | undefined): void {
    // Late callbacks of a connection we already left (its unacked messages
    // were requeued) must not settle the republished copy.
    if (e.target !== t || !this.unacked.has(e)) return;
    // Errors of a dying connection ('client disconnecting'): detach() requeues it.
    if (err && t.isLost) return;
    this.unacked.delete(e);
    // While attached, an error is the broker's refusal (PUBACK reason code)
    // or mqtt.js refusing the packet: publishing it again would fail again.
    if (err) e.reject(new Error(`MQTT publish to ${e.topic} refused: ${err.message}`));
    else e.resolve();
    this.pump();
    if (this.isIdle()) this.settleIdleWaiters(true);
  }
}
