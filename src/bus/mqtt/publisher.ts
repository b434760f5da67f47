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
import { PublishWindow, type Settle } from '../publish-window';

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

interface Entry extends PublishRequest, Settle {
  /** the connection it was last published on */
  target?: PublishTarget;
}

/** Fixed header, packet id and property framing, generously; the topic and properties are counted separately. */
const PACKET_OVERHEAD = 64;

function packetBytes(r: PublishRequest): number {
  const props = r.options.properties;
  return (
    PACKET_OVERHEAD +
    Buffer.byteLength(r.topic) +
    r.payload.length +
    (props ? Buffer.byteLength(JSON.stringify(props)) : 0)
  );
}

export class AckPublisher extends PublishWindow<Entry, PublishTarget> {
  constructor(private readonly o: AckPublisherOptions) {
    super(o, 'MQTT');
  }

  /** Resolves on PUBACK; waits through disconnections. */
  publish(r: PublishRequest): Promise<void> {
    const tooBig =
      r.payload.length > this.o.maxMessageBytes
        ? new RangeError(
            `message of ${r.payload.length} bytes exceeds maxMessageBytes ${this.o.maxMessageBytes} (${r.topic})`,
          )
        : undefined;
    return this.enqueue(r, tooBig);
  }

  /** Publishes on this connection from now on. */
  attach(t: PublishTarget): void {
    this.detach();
    this.use(t);
  }

  /**
   * The connection is gone (or being given up): what it did not PUBACK goes
   * back to the front of the queue, in order. With t, only if that is still
   * the connection in use. Call before ending the connection, so that
   * callbacks of its last moments are ignored.
   */
  detach(t?: PublishTarget): void {
    if (!this.target || (t && this.target !== t)) return;
    this.release();
  }

  protected detachTarget(): void {
    this.detach();
  }

  protected describe(e: Entry): string {
    return `the message to ${e.topic.slice(0, 128)}`;
  }

  protected pump(): void {
    const t = this.target;
    if (!t) return;
    const window = this.window(Math.min(this.o.maxInFlight, t.brokerReceiveMaximum));
    while (this.target === t && this.inflight.size < window && this.waiting.length > 0) {
      // Too big for the broker: it would drop the connection, we would
      // reconnect and publish it again, forever.
      const next = this.waiting[0];
      if (t.brokerMaximumPacketSize !== undefined && packetBytes(next) > t.brokerMaximumPacketSize) {
        this.waiting.shift();
        next.reject(
          new RangeError(
            `message to ${next.topic} exceeds the broker's maximum packet size ${t.brokerMaximumPacketSize}`,
          ),
        );
        continue;
      }
      const e = this.take();
      e.target = t;
      t.publish(e.topic, e.payload, e.options, (err) => this.acked(t, e, err));
    }
  }

  private acked(t: PublishTarget, e: Entry, err: Error | undefined): void {
    // Late callbacks of a connection we already left (its unacked messages
    // were requeued) must not settle the republished copy.
    if (e.target !== t || !this.inflight.has(e)) return;
    // Errors of a dying connection ('client disconnecting'): detach() requeues it.
    if (err && t.isLost) return;
    // While attached, an error is the broker's refusal (PUBACK reason code)
    // or mqtt.js refusing the packet: publishing it again would fail again.
    this.settle(e, err ? new Error(`MQTT publish to ${e.topic} refused: ${err.message}`) : undefined);
  }
}
