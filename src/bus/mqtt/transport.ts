// The MQTT transport (MQTT 5, or 3.1.1): keeps one connection of a
// persistent session alive across broker restarts and network loss, feeds
// commands to the agent, and publishes events and replies at QoS 1.
import type { IClientPublishOptions } from 'mqtt';
import { Backoff, retry, sleep } from '../../reconnect/backoff';
import { withTimeout } from '../../timeout';
import { TypedEmitter } from '../../typed-emitter';
import { TransportClosedError, type InboundMessage, type OutboundEvent, type OutboundReply, type Transport, type TransportEvents, type TransportStartOptions } from '../transport';
import { fitsUserProperties, isStructuredJson, toBinary } from './cloudevents';
import { toDelivery, toInboundMessage } from './delivery';
import { BROADCAST_TOPIC, assertPublishTopic, commandTopic, eventTopic, replyTopicProblem, statusTopic } from '../../contract/addresses';
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
  /** aborted by close(): ends retry loops and setup steps in progress */
  private readonly abort = new AbortController();
  /** the established session (subscribed, delivering, 'connected' emitted) */
  private session?: MqttSession;
  private handlers?: TransportStartOptions;
  private wantConsuming = false;
  private started?: Promise<void>;
  private recovering?: Promise<void>;
  private closing?: Promise<void>;

  constructor(options: MqttTransportOptions) {
    super();
    this.o = resolveOptions(options);
    this.publisher = new AckPublisher({
      maxInFlight: this.o.maxInFlightPublishes, maxQueued: this.o.maxQueuedPublishes, maxMessageBytes: this.o.maxMessageBytes,
    });
    this.publisher.onDropped = (err) => this.emit('publish-dropped', err);
  }

  get nodeId(): string { return this.o.nodeId; }
  get clientId(): string { return this.o.clientId; }
  get protocolVersion(): 4 | 5 { return this.o.protocolVersion; }
  /** connected, subscribed, beforeConsume done */
  get connected(): boolean { return this.session !== undefined; }
  /** the broker had kept our session when the current connection was made */
  get sessionPresent(): boolean { return this.session?.sessionPresent ?? false; }
  /** published, PUBACK pending */
  get inFlight(): number { return this.publisher.inFlight; }
  /** waiting for a window slot or a reconnect */
  get queuedPublishes(): number { return this.publisher.queued; }
  get publishDropped(): number { return this.publisher.dropped; }

  replyAddressProblem(to: string): string | undefined { return replyTopicProblem(to); }
  /** the topics this agent takes commands from */
  get commandTopics(): [node: string, broadcast: string] { return [commandTopic(this.o.nodeId), BROADCAST_TOPIC]; }
  get statusTopic(): string { return statusTopic(this.o.nodeId); }

  start(handlers: TransportStartOptions): Promise<void> {
    if (this.closing) return Promise.reject(new TransportClosedError('mqtt'));
    if (!this.started) {
      this.handlers = handlers;
      this.wantConsuming = true;
      this.started = this.establish(false);
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
    this.session?.stopDelivering();
  }

  publishEvent(e: OutboundEvent): Promise<void> {
    let topic: string;
    try {
      topic = eventTopic(this.o.nodeId, e.object, e.id, e.event);
    } catch (err) {
      return Promise.reject(err);
    }
    const { payload, properties } = this.encode(e.body, e.contentType);
    return this.publish(topic, payload, { qos: 1, retain: false, ...(properties && { properties }) });
  }

  publishReply(r: OutboundReply): Promise<void> {
    try {
      assertPublishTopic(r.to);
    } catch (err) {
      return Promise.reject(err);
    }
    const { payload, properties } = this.encode(r.body, r.contentType);
    // MQTT 3.1.1: the correlation id travels in the envelope (the agent echoes correlationid).
    // MQTT 5: the command's Correlation Data byte for byte (a client may use random bytes).
    const correlationData = r.correlationData ?? (r.correlationId !== undefined ? Buffer.from(r.correlationId, 'utf8') : undefined);
    const props = properties && { ...properties, ...(correlationData && { correlationData }) };
    return this.publish(r.to, payload, { qos: 1, retain: false, ...(props && { properties: props }) });
  }

  /** Idempotent; never rejects: problems along the way are 'warning's. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /**
   * MQTT 5 carries CloudEvents in binary mode (data as payload, attributes
   * as user properties); 3.1.1 has no properties, so there the structured
   * envelope goes as it is. Non-JSON formats (protobuf) stay structured.
   */
  private encode(body: Buffer, contentType: string): { payload: Buffer; properties?: IClientPublishOptions['properties'] } {
    if (this.o.protocolVersion === 4) return { payload: body };
    const binary = isStructuredJson(contentType) ? toBinary(body) : undefined;
    if (!binary || !fitsUserProperties(binary.userProperties)) return { payload: body, properties: { contentType } };
    return {
      payload: binary.payload,
      properties: { userProperties: binary.userProperties, ...(binary.contentType && { contentType: binary.contentType }) },
    };
  }

  private publish(topic: string, payload: Buffer, options: IClientPublishOptions): Promise<void> {
    if (this.closing) return Promise.reject(new TransportClosedError('mqtt'));
    return this.publisher.publish({ topic, payload, options });
  }

  private async shutdown(): Promise<void> {
    this.abort.abort(new TransportClosedError('mqtt'));
    await this.stopConsuming();
    const s = this.session;
    if (s && !s.isLost) {
      try {
        // The will only covers an unclean end: DISCONNECT discards it.
        await withTimeout(this.publishStatus(s, 'offline'), this.o.closeTimeoutMs, 'offline status PUBACK');
      } catch (err) {
        this.emit('warning', 'MQTT: publishing the offline status failed', err);
      }
    }
    if (!(await this.publisher.flush(this.o.closeTimeoutMs)) && (this.publisher.inFlight || this.publisher.queued)) {
      this.emit('warning', `MQTT: closing with ${this.publisher.inFlight} unacknowledged and ${this.publisher.queued} unsent publishes; they are rejected`);
    }
    this.publisher.close(new TransportClosedError('mqtt'));
    this.session = undefined;
    await s?.close();
    // A (re)connect attempt in progress sees the abort and drops its own
    // connection; wait for that so no connection outlives close().
    await Promise.allSettled([this.started, this.recovering].filter(Boolean));
  }

  /** Connects with retries until a session is ready, starts deliveries, emits 'connected'. */
  private async establish(reconnect: boolean): Promise<void> {
    // Reconnects wait one jittered delay first: every agent loses a
    // restarting broker at the same instant, and must not return together.
    if (reconnect) await sleep(new Backoff(this.o.backoff).next(), this.abort.signal);
    const s = await retry(() => this.openReadySession(), {
      ...this.o.backoff,
      signal: this.abort.signal,
      onFailure: (err, delayMs, attempt) => this.emit('connect-failed', err, { attempt, delayMs }),
    });
    // close() may have come while the last step finished; it no longer sees this session.
    if (this.abort.signal.aborted) {
      this.publisher.detach(s);
      s.abandon('transport closed');
      throw this.abort.signal.reason;
    }
    this.session = s;
    void s.lost.then((reason) => this.onLost(s, reason));
    if (reconnect && !s.sessionPresent) {
      // Expired (sessionExpiryS) or the broker lost it (restart without persistence).
      this.emit('warning', 'MQTT: the broker had no session for us any more; commands sent while we were away are lost');
    }
    if (this.wantConsuming) {
      s.startDelivering((p) => this.deliver(s, p));
    } else {
      // stopConsuming() ran while this connection was being set up.
      s.stopDelivering();
      s.unsubscribe(this.commandTopics).catch((err) => this.emit('warning', 'MQTT: unsubscribing failed', err));
    }
    this.emit('connected', { reconnect });
  }

  /** One attempt: connection → subscriptions → online status → publisher attached → beforeConsume. establish() then starts deliveries. */
  private async openReadySession(): Promise<MqttSession> {
    this.abort.signal.throwIfAborted();
    const o = this.o;
    const s = await MqttSession.open({
      url: o.url, clientId: o.clientId, protocolVersion: o.protocolVersion, username: o.username, password: o.password,
      keepaliveS: o.keepaliveS, sessionExpiryS: o.sessionExpiryS, receiveMaximum: o.receiveMaximum, connectTimeoutMs: o.connectTimeoutMs,
      will: { topic: this.statusTopic, payload: o.statusPayload.offline(), contentType: o.statusPayload.contentType, delayS: o.willDelayS },
    });
    try {
      this.abort.signal.throwIfAborted();
      // Commands the session kept may arrive from CONNACK on; the session
      // holds them until startDelivering, after beforeConsume.
      if (this.wantConsuming) await this.unlessLost(s, s.subscribe(this.commandTopics), 'SUBSCRIBE');
      await this.unlessLost(s, this.publishStatus(s, 'online'), 'online status');
      // Before beforeConsume: the snapshot it publishes needs a connection.
      this.publisher.attach(s);
      await this.unlessLost(s, this.handlers!.beforeConsume(), 'beforeConsume');
      return s;
    } catch (err) {
      this.publisher.detach(s);
      // No DISCONNECT: the will stays armed, so presence turns offline if
      // the retries do not bring us back within the will delay.
      s.abandon(`setup failed: ${(err as Error).message}`);
      throw err;
    }
  }

  private publishStatus(s: MqttSession, status: 'online' | 'offline'): Promise<void> {
    const p = this.o.statusPayload;
    return s.publishAsync(this.statusTopic, status === 'online' ? p.online() : p.offline(), {
      qos: 1, retain: true, ...(this.o.protocolVersion === 5 && { properties: { contentType: p.contentType } }),
    });
  }

  /**
   * Awaits a setup step unless the connection dies or close() is called
   * first. Without this, a beforeConsume whose publishes wait for a
   * reconnect would wait forever: the reconnect is waiting for it.
   */
  private unlessLost<T>(s: MqttSession, step: Promise<T>, what: string): Promise<T> {
    const signal = this.abort.signal;
    let onAbort!: () => void;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      if (signal.aborted) onAbort(); else signal.addEventListener('abort', onAbort, { once: true });
    });
    const lost = s.lost.then((reason): never => { throw new Error(`MQTT connection lost during ${what}: ${reason}`); });
    // Losing the race leaves these promises rejected with no reader.
    aborted.catch(() => undefined);
    lost.catch(() => undefined);
    step.catch(() => undefined);
    return Promise.race([step, lost, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
  }

  private deliver(s: MqttSession, p: InboundPacket): void {
    const what = `${p.topic} #${p.messageId ?? '-'}`;
    const warn = (msg: string, detail?: unknown) => this.emit('warning', msg, detail);
    const puback = () => { if (p.qos > 0 && p.messageId !== undefined) s.puback(p.messageId); };
    if (p.retain) {
      // MQTT 3.1.1 sends retained messages on every SUBSCRIBE: a retained
      // command would run again after each reconnect. Live commands never
      // carry the retain flag.
      warn(`MQTT: retained command on ${p.topic} ignored (commands must not be retained; clear it with an empty retained publish)`);
      puback();
      return;
    }
    const origin: InboundMessage['origin'] = p.topic === BROADCAST_TOPIC ? 'broadcast' : 'node';
    const d = toDelivery(toInboundMessage(p, origin, s.protocolVersion, warn), (how) => {
      if (how === 'reject') warn(`MQTT: command ${what} rejected; acknowledged and dropped (MQTT has no dead-lettering)`);
      puback();
    }, warn, what);
    try {
      this.handlers!.onDelivery(d);
    } catch (err) {
      // A handler that throws will not settle it either; drop it rather than
      // let it hold a Receive Maximum slot until the connection dies.
      warn('MQTT: onDelivery threw; the delivery is rejected', err);
      d.reject();
    }
  }

  private onLost(s: MqttSession, reason: string): void {
    this.publisher.detach(s);
    if (this.session !== s) return;
    this.session = undefined;
    if (this.closing) return;
    this.emit('disconnected', { reason });
    this.recovering = this.establish(true).catch((err) => {
      if (!this.abort.signal.aborted) this.emit('warning', 'MQTT: reconnecting stopped', err);
    });
  }
}
