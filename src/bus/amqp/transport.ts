// The AMQP transport: keeps one session (connection + channels + topology)
// alive across broker restarts and network loss, feeds deliveries to the
// agent, and publishes events and replies through the confirm window.
import type { ConsumeMessage } from 'amqplib';
import type { BackoffOptions } from '../../reconnect/backoff';
import { withTimeout } from '../../timeout';
import { TypedEmitter } from '../../typed-emitter';
import {
  TransportClosedError,
  type InboundMessage,
  type OutboundEvent,
  type OutboundReply,
  type Transport,
  type TransportEvents,
  type TransportStartOptions,
} from '../transport';
export { TransportClosedError };
import {
  describeEndpoint,
  schemeFamily,
  toEndpoint,
  urlCursor,
  type Endpoint,
  type EndpointInput,
} from '../../endpoint';
import { Recovering, type SetupContext } from '../../reconnect/recovering';
import { toDelivery } from './delivery';
import { EVENTS_EXCHANGE, assertNodeId, eventRoutingKey, isNodeId } from '../../contract/addresses';
import { readPresenceLog, type PresenceLogRecord } from './presence-stream';
import type { PresenceRecord } from '../transport';
import { ConfirmPublisher, type PublishRequest } from './publisher';
import { AmqpSession } from './session';
import { TopologyAccessError, TopologyMismatchError, TopologyMissingError } from './topology';

/** how far back a peer's presence is looked for first */
const RECENT_PRESENCE_MS = 10 * 60_000;
/**
 * How long a presence read waits for the log's first record. A busy broker
 * can take longer to start a stream read than the 150 ms it leaves between
 * records once they flow; giving up early would answer migrate {to} with
 * NOT_FOUND for a peer that is there. (The last ten minutes nearly always
 * hold a record, this agent's own online or heartbeat among them, so the
 * longer wait costs only lookups in an idle fleet.)
 */
const FIRST_RECORD_MS = 1000;

export interface AmqpTransportOptions {
  /** amqp://user:pass@host:port/vhost (amqps:// for TLS); several (cluster nodes) are tried in turn */
  endpoint: EndpointInput;
  nodeId: string;
  /** unacked deliveries per queue (basic.qos), default 4 */
  prefetch?: number;
  /** published-but-unconfirmed messages, default 256 */
  maxInFlightPublishes?: number;
  /** x-delivery-limit of the node's command queue, default 5 */
  deliveryLimit?: number;
  /** AMQP heartbeat in seconds, default 10 (overrides a heartbeat in the URL) */
  heartbeatS?: number;
  backoff?: BackoffOptions;
  /** largest body published, default 128 MiB (RabbitMQ's default max_message_size); keep it ≤ the broker's */
  maxMessageBytes?: number;
  /** publishes waiting for a window slot or a reconnect, default 10000; more are refused at once */
  maxQueuedPublishes?: number;
  /** how long close() waits for outstanding confirms, default 10000 ms */
  closeTimeoutMs?: number;
  /** TCP connect + AMQP handshake, default 10000 ms */
  connectTimeoutMs?: number;
  /** declare the contract topology (default) or only check it (an operator declared it; least privilege) */
  topology?: 'declare' | 'passive';
  /** plain (user name and password, default) or external (the TLS client certificate) */
  auth?: 'plain' | 'external';
}

const DEFAULTS = {
  prefetch: 4,
  maxInFlightPublishes: 256,
  deliveryLimit: 5,
  heartbeatS: 10,
  maxMessageBytes: 128 * 1024 * 1024,
  maxQueuedPublishes: 10000,
  closeTimeoutMs: 10000,
  connectTimeoutMs: 10000,
};

type Resolved = typeof DEFAULTS &
  Pick<AmqpTransportOptions, 'nodeId' | 'backoff'> &
  Required<Pick<AmqpTransportOptions, 'topology' | 'auth'>> & { endpoint: Endpoint };

function resolveOptions(o: AmqpTransportOptions): Resolved {
  assertNodeId(o.nodeId);
  const endpoint = toEndpoint(o.endpoint);
  if (schemeFamily(endpoint) !== 'amqp')
    throw new RangeError(`AMQP url must be amqp:// or amqps://, got ${describeEndpoint(endpoint)}`);
  const r: Resolved = {
    ...DEFAULTS,
    endpoint,
    nodeId: o.nodeId,
    backoff: o.backoff,
    topology: o.topology ?? 'declare',
    auth: o.auth ?? 'plain',
  };
  for (const k of Object.keys(DEFAULTS) as Array<keyof typeof DEFAULTS>) {
    const v = o[k];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`AMQP option ${k} must be a positive integer, got ${v}`);
    r[k] = v;
  }
  return r;
}

export class AmqpTransport extends TypedEmitter<TransportEvents> implements Transport {
  readonly kind = 'amqp' as const;
  /** correlation_id is a shortstr */
  readonly maxCorrelationIdBytes = 255;
  private readonly o: Resolved;
  private readonly publisher: ConfirmPublisher;
  /** the connection's lifecycle: open, set up, lose, reopen, close */
  private readonly recovery: Recovering<AmqpSession>;
  private handlers?: TransportStartOptions;
  private wantConsuming = false;
  private started?: Promise<void>;
  private closing?: Promise<void>;

  constructor(options: AmqpTransportOptions) {
    super();
    this.o = resolveOptions(options);
    this.publisher = new ConfirmPublisher({
      maxInFlight: this.o.maxInFlightPublishes,
      maxQueued: this.o.maxQueuedPublishes,
      maxMessageBytes: this.o.maxMessageBytes,
    });
    this.publisher.onDropped = (err) => this.emit('publish-dropped', err);
    const nextUrl = urlCursor(this.o.endpoint, this.o.nodeId);
    this.recovery = new Recovering<AmqpSession>({
      name: 'AMQP',
      backoff: this.o.backoff,
      open: () =>
        AmqpSession.open({
          url: nextUrl(),
          endpoint: this.o.endpoint,
          nodeId: this.o.nodeId,
          heartbeatS: this.o.heartbeatS,
          connectTimeoutMs: this.o.connectTimeoutMs,
          prefetch: this.o.prefetch,
          deliveryLimit: this.o.deliveryLimit,
          topology: this.o.topology,
          auth: this.o.auth,
        }),
      setup: (s, ctx) => this.setUp(s, ctx),
      // Not waiting for the channel's 'close': a silently dead socket may take a heartbeat timeout to report it.
      detach: (s) => this.publisher.detach(s.publishChannel),
      isFatal: (err) =>
        err instanceof TopologyMismatchError ||
        err instanceof TopologyMissingError ||
        err instanceof TopologyAccessError,
    });
    this.recovery.on('connected', (_s, { reconnect }) => this.emit('connected', { reconnect }));
    this.recovery.on('disconnected', (info) => this.emit('disconnected', info));
    this.recovery.on('connect-failed', (err, info) => this.emit('connect-failed', err, info));
    // Retrying cannot help: refuse publishes from now on, with the reason.
    this.recovery.on('gave-up', (err) => {
      this.emit('warning', `AMQP transport stopped: ${err.message}`, err);
      this.publisher.close(err);
    });
  }

  get nodeId(): string {
    return this.o.nodeId;
  }
  /** connected, topology declared, beforeConsume done */
  get connected(): boolean {
    return this.recovery.session !== undefined;
  }
  /** published, broker confirm pending (≤ maxInFlightPublishes) */
  get inFlight(): number {
    return this.publisher.inFlight;
  }
  /** highest inFlight so far */
  get peakInFlight(): number {
    return this.publisher.peakInFlight;
  }
  /** waiting for a window slot or a reconnect */
  get queuedPublishes(): number {
    return this.publisher.queued;
  }
  get publishDropped(): number {
    return this.publisher.dropped;
  }

  /** reply_to is a routing key on the default exchange: any shortstr that is not empty. */
  replyAddressProblem(to: string): string | undefined {
    if (to.length === 0) return 'reply_to is empty';
    if (Buffer.byteLength(to) > 255) return 'reply_to longer than 255 bytes';
    // RabbitMQ decodes a direct reply-to name as an Erlang term: a forged one
    // crashes the publishing channel and closes the agent's connection
    // (541 INTERNAL_ERROR, RabbitMQ 3.10). Callers reply on a queue of their own.
    if (to.startsWith('amq.rabbitmq.reply-to'))
      return 'direct reply-to (amq.rabbitmq.reply-to) is not supported: use a queue of your own';
    return undefined;
  }

  start(handlers: TransportStartOptions): Promise<void> {
    if (this.closing) return Promise.reject(new TransportClosedError('amqp'));
    if (!this.started) {
      this.handlers = handlers;
      this.wantConsuming = true;
      this.started = this.recovery.start().then(() => undefined);
    }
    return this.started;
  }

  async stopConsuming(): Promise<void> {
    this.wantConsuming = false;
    const s = this.recovery.session;
    if (!s) return;
    try {
      await withTimeout(s.cancelConsumers(), this.o.closeTimeoutMs, 'basic.cancel');
    } catch (err) {
      // The connection is going or gone; its deliveries return to the queue anyway.
      this.emit('warning', 'AMQP: cancelling consumers failed', err);
    }
  }

  publishEvent(e: OutboundEvent): Promise<void> {
    let routingKey: string;
    try {
      routingKey = eventRoutingKey(this.o.nodeId, e.object, e.id, e.event);
    } catch (err) {
      return Promise.reject(err);
    }
    // persistent: a durable consumer queue keeps events over a broker restart.
    // timestamp: AMQP's is whole seconds.
    const options = {
      persistent: true,
      messageId: e.messageId,
      contentType: e.contentType,
      timestamp: Math.floor(Date.now() / 1000),
    };
    // (presence events reach the presence log through its binding: nothing more to publish)
    return this.publish({ exchange: EVENTS_EXCHANGE, routingKey, body: e.body, options });
  }

  /**
   * The node's latest record in the presence log: the last ten minutes
   * first (twenty default heartbeats of every node: a short read), then, for
   * a node not heard from in that time, all the log keeps (an hour).
   */
  async lookupPresence(node: string, timeoutMs: number): Promise<PresenceRecord | undefined> {
    const s = this.recovery.session;
    if (!s || s.isLost || !isNodeId(node)) return undefined;
    const end = Date.now() + timeoutMs;
    let found: PresenceRecord | undefined;
    const keep = (r: PresenceLogRecord) => {
      if (r.node === node) found = { body: r.body, contentType: r.contentType };
    };
    try {
      for (const from of [Date.now() - RECENT_PRESENCE_MS, 'first'] as const) {
        const left = end - Date.now();
        if (left <= 0) break;
        if (
          !(await readPresenceLog(s.model, from, keep, { idleMs: 150, firstIdleMs: FIRST_RECORD_MS, timeoutMs: left }))
        )
          return undefined;
        if (found) return found;
      }
    } catch {
      return undefined; // the session went away meanwhile
    }
    return found;
  }

  publishReply(r: OutboundReply): Promise<void> {
    // An empty key on the default exchange routes nowhere and would still be confirmed.
    if (!r.to) return Promise.reject(new RangeError('reply address (to) is empty'));
    return this.publish({
      exchange: '',
      routingKey: r.to,
      body: r.body,
      // Not persistent: a reply is only useful to a caller that is waiting now.
      options: {
        ...(r.correlationId !== undefined && { correlationId: r.correlationId }),
        contentType: r.contentType,
        persistent: false,
      },
    });
  }

  /** Idempotent; never rejects: problems along the way are 'warning's. */
  renew(): boolean {
    return this.recovery.renew();
  }

  close(): Promise<void> {
    this.closing ??= this.recovery.close(async () => {
      await this.stopConsuming();
      if (!(await this.publisher.flush(this.o.closeTimeoutMs)) && (this.publisher.inFlight || this.publisher.queued)) {
        this.emit(
          'warning',
          `AMQP: closing with ${this.publisher.inFlight} unconfirmed and ${this.publisher.queued} unsent publishes; they are rejected`,
        );
      }
      this.publisher.close(new TransportClosedError('amqp'));
    }, new TransportClosedError('amqp'));
    return this.closing;
  }

  private publish(r: PublishRequest): Promise<void> {
    if (this.closing) return Promise.reject(new TransportClosedError('amqp'));
    return this.publisher.publish(r);
  }

  /** A new session's set-up: publisher attached → beforeConsume → consumers. */
  private async setUp(s: AmqpSession, ctx: SetupContext): Promise<void> {
    if (s.topology.degraded) this.emit('warning', `AMQP: ${s.topology.degraded}`);
    // Before beforeConsume: the snapshot it publishes needs a channel.
    this.publisher.attach(s.publishChannel, s.model, (err) => {
      this.emit('warning', 'AMQP: publish failed mid-frame; replacing the connection', err);
      s.abandon(`publish channel unusable: ${err.message}`);
    });
    await ctx.step(this.handlers!.beforeConsume(), 'beforeConsume');
    if (this.wantConsuming) {
      await ctx.step(
        s.consume((msg, origin) => this.deliver(s, msg, origin)),
        'consume',
      );
      // stopConsuming() ran while consume was on its way.
      if (!this.wantConsuming) await s.cancelConsumers();
    }
  }

  private deliver(s: AmqpSession, msg: ConsumeMessage, origin: InboundMessage['origin']): void {
    const d = toDelivery(
      msg,
      origin,
      s.consumeChannel,
      () => s.canSettle,
      (m, detail) => this.emit('warning', m, detail),
    );
    try {
      this.handlers!.onDelivery(d);
    } catch (err) {
      // A handler that throws will not settle it either; dead-letter it
      // rather than let it hold a prefetch slot until the connection dies.
      this.emit('warning', 'AMQP: onDelivery threw; the delivery is rejected', err);
      d.reject();
    }
  }
}
