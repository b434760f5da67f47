// The broker-neutral face of a transport (AMQP and MQTT). Command
// execution and event mapping talk only to this interface.
import type { CloudEvent } from '../contract/envelope';
import type { TypedEmitter } from '../typed-emitter';

/** A command as it arrived, before any parsing. */
export interface InboundMessage {
  body: Buffer;
  /** e.g. application/cloudevents+json */
  contentType?: string;
  /** AMQP message_id */
  messageId?: string;
  /** AMQP correlation_id / MQTT 5 Correlation Data (as UTF-8 text, for logs and 3.1.1-style echoes) */
  correlationId?: string;
  /** MQTT 5 Correlation Data as the bytes received: echoed unchanged (random bytes are legal) */
  correlationData?: Buffer;
  /** AMQP reply_to / MQTT 5 Response Topic */
  replyTo?: string;
  /** transport headers / user properties */
  headers: Record<string, unknown>;
  /** the broker says it delivered this before (AMQP redelivered flag) */
  redelivered: boolean;
  /** which subscription it came from */
  origin: 'node' | 'broadcast';
  /** AMQP user_id: RabbitMQ refuses a message whose user_id is not the publishing connection's user */
  userId?: string;
}

/** One delivery; exactly one of ack/reject must be called. */
export interface Delivery {
  message: InboundMessage;
  /** done with it: the broker may forget it */
  ack(): void;
  /** drop it (dead-lettered where the broker has a DLX); never requeued */
  reject(): void;
  /** reject() dead-letters it (AMQP: the queue's DLX); false: reject() only drops it (MQTT) */
  readonly deadLetters: boolean;
}

export interface OutboundReply {
  /** reply address (AMQP reply_to queue / MQTT response topic) */
  to: string;
  /** absent when the transport cannot carry the command's (see maxCorrelationIdBytes) */
  correlationId?: string;
  /** MQTT 5: the command's Correlation Data, sent back byte for byte (else correlationId as UTF-8) */
  correlationData?: Buffer;
  body: Buffer;
  contentType: string;
  /** the envelope `body` encodes in structured JSON, when the codec kept it (see EncodedMessage) */
  envelope?: Readonly<CloudEvent>;
}

export interface OutboundEvent {
  /** contract address parts: v1.<node>.<object>.<id>.<event> / virtbus/v1/<node>/<object>/<id>/<event> */
  object: string;
  id: string;
  event: string;
  body: Buffer;
  contentType: string;
  /** the envelope `body` encodes in structured JSON, when the codec kept it (see EncodedMessage) */
  envelope?: Readonly<CloudEvent>;
  /** CloudEvents id, used as message_id */
  messageId: string;
}

export type TransportEvents = {
  /** connected (first time or again) and topology declared */
  connected: (info: { reconnect: boolean }) => void;
  /** lost the broker; publishing waits, consuming stopped */
  disconnected: (info: { reason: string }) => void;
  /** a (re)connect attempt failed; next try after delayMs */
  'connect-failed': (err: unknown, info: { attempt: number; delayMs: number }) => void;
  /** a non-fatal problem worth logging */
  warning: (msg: string, detail?: unknown) => void;
  /** a message the broker refused for good was dropped (its publish rejected); counted in publishDropped */
  'publish-dropped': (err: Error) => void;
};

export interface TransportStartOptions {
  /** runs after every (re)connect and topology declaration, before consuming (re)starts: the snapshot goes here */
  beforeConsume: () => Promise<void>;
  /** called for every command delivery */
  onDelivery: (d: Delivery) => void;
}

export interface Transport extends TypedEmitter<TransportEvents> {
  readonly kind: 'amqp' | 'mqtt';
  /** the longest correlation id (UTF-8 bytes) a reply can carry: AMQP shortstr 255 */
  readonly maxCorrelationIdBytes: number;
  /** messages the broker refused for good, dropped after bounded tries (a counter) */
  readonly publishDropped: number;
  /** Why a caller's reply address cannot be published to (undefined: it can). Checked at intake. */
  replyAddressProblem(to: string): string | undefined;
  /** Connects (retrying with backoff), declares topology, runs beforeConsume, then consumes. Resolves once consuming. */
  start(o: TransportStartOptions): Promise<void>;
  /** Stops taking new commands (in-flight deliveries can still be acked). */
  stopConsuming(): Promise<void>;
  /** Publishes an event; resolves when the broker confirmed it (waits through reconnects). */
  publishEvent(e: OutboundEvent): Promise<void>;
  /** Publishes a reply; resolves when the broker confirmed it. */
  publishReply(r: OutboundReply): Promise<void>;
  /** Closes everything; pending confirms are awaited first. Idempotent. */
  close(): Promise<void>;
  /** Reconnects now (TLS files are read again at every connect): certificate rotation. false: not connected. */
  renew(): boolean;
  /**
   * What `node` last announced about itself, as the broker keeps it (the
   * retained MQTT status; the AMQP presence log, its latest record): the
   * message as published. undefined when there is none within timeoutMs or
   * the bus is not connected.
   */
  lookupPresence(node: string, timeoutMs: number): Promise<PresenceRecord | undefined>;
}

/** A node's last presence as the broker kept it: a retained status (JSON) or a presence CloudEvent. */
export interface PresenceRecord {
  body: Buffer;
  contentType?: string;
}

/** Everything waiting on a transport after close() rejects with this. */
export class TransportClosedError extends Error {
  constructor(readonly transport: 'amqp' | 'mqtt') {
    super(`${transport.toUpperCase()} transport closed`);
    this.name = 'TransportClosedError';
  }
}
