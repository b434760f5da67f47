// The MQTT transport (MQTT 5, or 3.1.1): keeps one connection of a
// persistent session alive across broker restarts and network loss, feeds
// commands to the agent, and publishes events and replies at QoS 1.
import type { IClientPublishOptions } from 'mqtt';
import { Recovering, type SetupContext } from '../../reconnect/recovering';
import { urlCursor } from '../../endpoint';
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
  type PresenceRecord,
} from '../transport';
import { mqttPayload } from './cloudevents';
import { toDelivery, toInboundMessage } from './delivery';
import {
  BROADCAST_TOPIC,
  assertPublishTopic,
  commandTopic,
  eventTopic,
  isNodeId,
  replyTopicProblem,
  statusTopic,
} from '../../contract/addresses';
import { resolveOptions, type MqttTransportOptions, type ResolvedOptions } from './options';
import { AckPublisher } from './publisher';
import { MqttSession, type InboundPacket } from './session';

/** Everything waiting on the transport after close() rejects with this. */
/** kept for callers of the MQTT transport; the same class as AMQP's */
export const MqttTransportClosedError = TransportClosedError;

export class MqttTransport extends TypedEmitter<TransportEvents> implements Transport {
  readonly kind = 'mqtt' as const;
  /** Correlation Data is binary data with a two-byte length */
  readonly maxCorrelationIdBytes = 65535;
  private readonly o: ResolvedOptions;
  private readonly publisher: AckPublisher;
  /** the connection's lifecycle: open, set up, lose, reopen, close */
  private readonly recovery: Recovering<MqttSession>;
  private handlers?: TransportStartOptions;
  /** presence lookups waiting for a node's retained status, by topic */
  private readonly statusWaiters = new Map<string, Array<(r: PresenceRecord) => void>>();
  private wantConsuming = false;
  private started?: Promise<void>;
  private closing?: Promise<void>;

  constructor(options: MqttTransportOptions) {
    super();
    this.o = resolveOptions(options);
    this.publisher = new AckPublisher({
      maxInFlight: this.o.maxInFlightPublishes,
      maxQueued: this.o.maxQueuedPublishes,
      maxMessageBytes: this.o.maxMessageBytes,
    });
    this.publisher.onDropped = (err) => this.emit('publish-dropped', err);
    const o = this.o;
    const nextUrl = urlCursor(o.endpoint, o.nodeId);
    this.recovery = new Recovering<MqttSession>({
      name: 'MQTT',
      backoff: o.backoff,
      open: () =>
        MqttSession.open({
          url: nextUrl(),
          endpoint: o.endpoint,
          clientId: o.clientId,
          protocolVersion: o.protocolVersion,
          keepaliveS: o.keepaliveS,
          sessionExpiryS: o.sessionExpiryS,
          receiveMaximum: o.receiveMaximum,
          connectTimeoutMs: o.connectTimeoutMs,
          will: {
            topic: this.statusTopic,
            payload: o.statusPayload.offline(),
            contentType: o.statusPayload.contentType,
            delayS: o.willDelayS,
          },
        }),
      setup: (s, ctx) => this.setUp(s, ctx),
      detach: (s) => this.publisher.detach(s),
      // No DISCONNECT after a failed set-up: the will stays armed, so presence
      // turns offline if the retries do not bring us back within the will delay.
      discard: 'abandon',
    });
    this.recovery.on('connected', (s, { reconnect }) => this.onConnected(s, reconnect));
    this.recovery.on('disconnected', (info) => this.emit('disconnected', info));
    this.recovery.on('connect-failed', (err, info) => this.emit('connect-failed', err, info));
  }

  get nodeId(): string {
    return this.o.nodeId;
  }
  get clientId(): string {
    return this.o.clientId;
  }
  get protocolVersion(): 4 | 5 {
    return this.o.protocolVersion;
  }
  /** connected, subscribed, beforeConsume done */
  get connected(): boolean {
    return this.recovery.session !== undefined;
  }
  /** the broker had kept our session when the current connection was made */
  get sessionPresent(): boolean {
    return this.recovery.session?.sessionPresent ?? false;
  }
  /** published, PUBACK pending */
  get inFlight(): number {
    return this.publisher.inFlight;
  }
  /** waiting for a window slot or a reconnect */
  get queuedPublishes(): number {
    return this.publisher.queued;
  }
  get publishDropped(): number {
    return this.publisher.dropped;
  }

  replyAddressProblem(to: string): string | undefined {
    const prefix = this.o.replyTopicPrefix;
    if (prefix && !to.startsWith(prefix))
      return `reply topic outside ${prefix} (this agent replies only there: --reply-topic-prefix)`;
    return replyTopicProblem(to);
  }
  /** the topics this agent takes commands from */
  get commandTopics(): [node: string, broadcast: string] {
    return [commandTopic(this.o.nodeId), BROADCAST_TOPIC];
  }
  get statusTopic(): string {
    return statusTopic(this.o.nodeId);
  }

  start(handlers: TransportStartOptions): Promise<void> {
    if (this.closing) return Promise.reject(new TransportClosedError('mqtt'));
    if (!this.started) {
      this.handlers = handlers;
      this.wantConsuming = true;
      this.started = this.recovery.start().then(() => undefined);
    }
    return this.started;
  }

  /**
   * Stops handing commands over but stays subscribed: like AMQP's durable
   * queue, the persistent session keeps what arrives during a clean restart,
   * unacknowledged, for the next connection (sessionExpiryS).
   */
  async stopConsuming(): Promise<void> {
    this.wantConsuming = false;
    this.recovery.session?.stopDelivering();
  }

  publishEvent(e: OutboundEvent): Promise<void> {
    let topic: string;
    try {
      topic = eventTopic(this.o.nodeId, e.object, e.id, e.event);
    } catch (err) {
      return Promise.reject(err);
    }
    const { payload, properties } = mqttPayload(this.o.protocolVersion, e.body, e.contentType, e.envelope);
    return this.publish(topic, payload, { qos: 1, retain: false, ...(properties && { properties }) });
  }

  publishReply(r: OutboundReply): Promise<void> {
    try {
      assertPublishTopic(r.to);
    } catch (err) {
      return Promise.reject(err);
    }
    const { payload, properties } = mqttPayload(this.o.protocolVersion, r.body, r.contentType, r.envelope);
    // MQTT 3.1.1: the correlation id travels in the envelope (the agent echoes correlationid).
    // MQTT 5: the command's Correlation Data byte for byte (a client may use random bytes).
    const correlationData =
      r.correlationData ?? (r.correlationId !== undefined ? Buffer.from(r.correlationId, 'utf8') : undefined);
    const props = properties && { ...properties, ...(correlationData && { correlationData }) };
    return this.publish(r.to, payload, { qos: 1, retain: false, ...(props && { properties: props }) });
  }

  /** Idempotent; never rejects: problems along the way are 'warning's. */
  renew(): boolean {
    return this.recovery.renew();
  }

  close(): Promise<void> {
    this.closing ??= this.recovery.close((s) => this.drain(s), new TransportClosedError('mqtt'));
    return this.closing;
  }

  private publish(topic: string, payload: Buffer, options: IClientPublishOptions): Promise<void> {
    if (this.closing) return Promise.reject(new TransportClosedError('mqtt'));
    return this.publisher.publish({ topic, payload, options });
  }

  /** A new connection's set-up: subscriptions → online status → publisher attached → beforeConsume. */
  private async setUp(s: MqttSession, ctx: SetupContext): Promise<void> {
    // Commands the session kept may arrive from CONNACK on; the session
    // holds them until startDelivering, after beforeConsume.
    if (this.wantConsuming) await ctx.step(s.subscribe(this.commandTopics), 'SUBSCRIBE');
    await ctx.step(this.publishStatus(s, 'online'), 'online status');
    // Before beforeConsume: the snapshot it publishes needs a connection.
    this.publisher.attach(s);
    await ctx.step(this.handlers!.beforeConsume(), 'beforeConsume');
  }

  /** The session is set up: start deliveries (or unsubscribe if stopConsuming() came meanwhile). */
  private onConnected(s: MqttSession, reconnect: boolean): void {
    if (reconnect && !s.sessionPresent) {
      // Expired (sessionExpiryS) or the broker lost it (restart without persistence).
      this.emit(
        'warning',
        'MQTT: the broker had no session for us any more; commands sent while we were away are lost',
      );
    }
    if (this.wantConsuming) {
      s.startDelivering((p) => this.deliver(s, p));
    } else {
      s.stopDelivering();
      s.unsubscribe(this.commandTopics).catch((err) => this.emit('warning', 'MQTT: unsubscribing failed', err));
    }
    this.emit('connected', { reconnect });
  }

  /** close()'s first part, on the still-open connection: offline status, then the outstanding PUBACKs. */
  private async drain(s: MqttSession | undefined): Promise<void> {
    await this.stopConsuming();
    if (s && !s.isLost) {
      try {
        // The will only covers an unclean end: DISCONNECT discards it.
        await withTimeout(this.publishStatus(s, 'offline'), this.o.closeTimeoutMs, 'offline status PUBACK');
      } catch (err) {
        this.emit('warning', 'MQTT: publishing the offline status failed', err);
      }
    }
    if (!(await this.publisher.flush(this.o.closeTimeoutMs)) && (this.publisher.inFlight || this.publisher.queued)) {
      this.emit(
        'warning',
        `MQTT: closing with ${this.publisher.inFlight} unacknowledged and ${this.publisher.queued} unsent publishes; they are rejected`,
      );
    }
    this.publisher.close(new TransportClosedError('mqtt'));
  }

  private publishStatus(s: MqttSession, status: 'online' | 'offline'): Promise<void> {
    const p = this.o.statusPayload;
    return s.publishAsync(this.statusTopic, status === 'online' ? p.online() : p.offline(), {
      qos: 1,
      retain: true,
      ...(this.o.protocolVersion === 5 && { properties: { contentType: p.contentType } }),
    });
  }

  async lookupPresence(node: string, timeoutMs: number): Promise<PresenceRecord | undefined> {
    const s = this.recovery.session;
    if (!s || s.isLost || !isNodeId(node) || node === this.o.nodeId) return undefined;
    const topic = statusTopic(node);
    let done!: (r: PresenceRecord | undefined) => void;
    const got = new Promise<PresenceRecord | undefined>((resolve) => {
      done = resolve;
    });
    const waiters = this.statusWaiters.get(topic) ?? [];
    waiters.push(done);
    this.statusWaiters.set(topic, waiters);
    const timer = setTimeout(() => done(undefined), timeoutMs);
    try {
      // the broker sends the retained status right after the SUBACK; none retained: nothing comes
      await s.subscribeRetained(topic).catch(() => done(undefined));
      return await got;
    } finally {
      clearTimeout(timer);
      const left = (this.statusWaiters.get(topic) ?? []).filter((w) => w !== done);
      if (left.length) this.statusWaiters.set(topic, left);
      else {
        this.statusWaiters.delete(topic);
        await s.unsubscribe([topic]).catch(() => undefined);
      }
    }
  }

  private deliver(s: MqttSession, p: InboundPacket): void {
    const what = `${p.topic} #${p.messageId ?? '-'}`;
    const warn = (msg: string, detail?: unknown) => this.emit('warning', msg, detail);
    const puback = () => {
      if (p.qos > 0 && p.messageId !== undefined) s.puback(p.messageId);
    };
    const waiting = this.statusWaiters.get(p.topic);
    if (waiting) {
      // a node's status, asked for by lookupPresence: not a command
      puback();
      const payload = Buffer.isBuffer(p.payload) ? p.payload : Buffer.from(p.payload);
      if (payload.length > 0) for (const w of waiting) w({ body: payload, contentType: p.properties?.contentType });
      return;
    }
    if (p.retain) {
      // MQTT 3.1.1 sends retained messages on every SUBSCRIBE: a retained
      // command would run again after each reconnect. Live commands never
      // carry the retain flag.
      warn(
        `MQTT: retained command on ${p.topic} ignored (commands must not be retained; clear it with an empty retained publish)`,
      );
      puback();
      return;
    }
    const origin: InboundMessage['origin'] = p.topic === BROADCAST_TOPIC ? 'broadcast' : 'node';
    const d = toDelivery(
      toInboundMessage(p, origin, s.protocolVersion, warn),
      (how) => {
        if (how === 'reject')
          warn(`MQTT: command ${what} rejected; acknowledged and dropped (MQTT has no dead-lettering)`);
        puback();
      },
      warn,
      what,
    );
    try {
      this.handlers!.onDelivery(d);
    } catch (err) {
      // A handler that throws will not settle it either; drop it rather than
      // let it hold a Receive Maximum slot until the connection dies.
      warn('MQTT: onDelivery threw; the delivery is rejected', err);
      d.reject();
    }
  }
}
