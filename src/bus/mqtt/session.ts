// One MQTT network connection (of the one persistent broker-side session):
// CONNACK, subscriptions, inbound commands held until the transport is ready
// for them, acknowledgements sent when the agent is done, and the moment the
// connection is lost. Recovery is always "new connection, same clientId":
// the broker still has our subscriptions and queued commands; nothing of a
// lost connection is reused.
import type { Socket } from 'node:net';
import mqtt, { type IClientPublishOptions, type MqttClient, type OnConnectCallback, type PacketCallback } from 'mqtt';
import { clientOptions, type ConnectOptions } from './connection';
import { coalesceWrites, corkable } from '../coalesce';

export type InboundPacket = Parameters<MqttClient['handleMessage']>[0];
export type Connack = Parameters<OnConnectCallback>[0];

/**
 * Passed to mqtt.js's handleMessage callback: mqtt.js then carries on with
 * the next packet but sends no PUBACK for this one (handlers/publish.js:
 * an error skips the ack). We send it ourselves once the agent acked.
 *
 * Why not simply call the callback later: mqtt.js handles inbound packets
 * strictly one after another, so holding it would also hold the PUBACKs of
 * our own publishes, and the agent acks a command only after its reply was
 * PUBACKed — a deadlock. customHandleAcks has the same shape (and is MQTT 5 only).
 *
 * PUBACKs therefore go out in the order the agent finishes commands, not the
 * order they arrived. MQTT-4.6.0-2 asks for arrival order, for the sake of
 * ordered topics; Mosquitto, RabbitMQ and aedes settle each packet id on its
 * own (test/bus/mqtt/transport.test.ts acks out of order on each), and
 * in-order acks would let one long migration hold back every later command.
 */
const ACK_LATER = new Error('virtbus: PUBACK deferred until the delivery is settled');

const CLOSE_STEP_MS = 2000;

type Inbound = (p: InboundPacket) => void;

/** mqtt.js's packet writer; private in its typings but the only way to send a PUBACK we deferred. */
interface PacketWriter {
  _sendPacket(packet: { cmd: 'puback'; messageId: number; reasonCode?: number }, cb?: () => void): void;
}

export class MqttSession {
  /** resolves (never rejects) with the reason once the connection is gone */
  readonly lost: Promise<string>;
  private resolveLost!: (reason: string) => void;
  private lostReason?: string;
  private connack?: Connack;
  /** inbound before delivering started: handed over in order by startDelivering */
  private held: InboundPacket[] = [];
  private deliver?: Inbound;
  private stopped = false;

  private constructor(
    readonly client: MqttClient,
    readonly protocolVersion: 4 | 5,
  ) {
    this.lost = new Promise((resolve) => {
      this.resolveLost = resolve;
    });
    if (typeof (client as unknown as PacketWriter)._sendPacket !== 'function') {
      // An mqtt.js upgrade renamed it: fail loudly here rather than never acknowledging.
      throw new Error('mqtt.js has no _sendPacket: deferred PUBACKs need updating for this mqtt.js version');
    }
    client.handleMessage = (packet, done) => {
      this.onPublish(packet);
      done(ACK_LATER);
    };
    client.on('close', () => this.markLost('connection closed'));
    client.on('error', (err) => this.markLost(`connection error: ${err.message}`));
    // MQTT 5: the broker says why before it closes (e.g. 0x8E session taken
    // over: another process runs with our clientId).
    client.on('disconnect', (p) =>
      this.markLost(
        `broker disconnected us: reason ${p.reasonCode ?? 0}${p.properties?.reasonString ? ` (${p.properties.reasonString})` : ''}`,
      ),
    );
  }

  /** Connects and waits for a successful CONNACK; no retries. */
  static async open(o: ConnectOptions): Promise<MqttSession> {
    const client = mqtt.connect(o.url, clientOptions(o));
    const s = new MqttSession(client, o.protocolVersion);
    try {
      s.connack = await new Promise<Connack>((resolve, reject) => {
        client.once('connect', resolve);
        void s.lost.then((reason) =>
          reject(new Error(`MQTT connect to ${client.options.hostname}:${client.options.port} failed: ${reason}`)),
        );
        client.connect();
        // Nagle would hold each small PUBLISH/PUBACK until the peer's
        // delayed ACK: ~40 ms per command round trip even on loopback.
        // (net.Socket remembers it until the socket connects; TLS sockets are net.Sockets too.)
        const socket = client.stream as unknown as Partial<Socket>;
        socket.setNoDelay?.(true);
        // the replies and PUBACKs of one event-loop turn in one write (src/bus/coalesce.ts)
        const writable = corkable(client.stream);
        if (writable) coalesceWrites(writable, 'turn');
      });
      if (s.lostReason) throw new Error(s.lostReason);
      return s;
    } catch (err) {
      s.abandon('connect failed');
      throw err;
    }
  }

  get isLost(): boolean {
    return this.lostReason !== undefined;
  }

  /** the broker still had our session (subscriptions, queued commands) */
  get sessionPresent(): boolean {
    return this.connack?.sessionPresent ?? false;
  }

  /** MQTT 5: QoS 1 publishes the broker accepts unacknowledged (its Receive Maximum); 65535 when it set none */
  get brokerReceiveMaximum(): number {
    return this.connack?.properties?.receiveMaximum ?? 65535;
  }

  /** MQTT 5: the largest packet the broker accepts, if it said */
  get brokerMaximumPacketSize(): number | undefined {
    return this.connack?.properties?.maximumPacketSize;
  }

  /** Subscribes at QoS 1; refused or downgraded grants fail the session setup. */
  async subscribe(topics: string[]): Promise<void> {
    // rh 2 (MQTT 5): never send retained messages on subscribing. A command
    // someone retained would otherwise run again on every reconnect.
    const opts = this.protocolVersion === 5 ? { qos: 1 as const, rh: 2 } : { qos: 1 as const };
    const grants = await this.client.subscribeAsync(topics, opts);
    const bad = grants.filter((g) => g.qos !== 1);
    if (bad.length)
      throw new Error(`MQTT SUBSCRIBE refused or downgraded: ${bad.map((g) => `${g.topic} -> ${g.qos}`).join(', ')}`);
  }

  /** Subscribes at QoS 1 and asks for the retained message (a node's status), unlike subscribe(). */
  async subscribeRetained(topic: string): Promise<void> {
    const opts = this.protocolVersion === 5 ? { qos: 1 as const, rh: 0 } : { qos: 1 as const };
    await this.client.subscribeAsync(topic, opts);
  }

  async unsubscribe(topics: string[]): Promise<void> {
    await this.client.unsubscribeAsync(topics);
  }

  /** Publishes; cb runs on PUBACK (QoS 1) or with the refusal. Never called back if the connection is lost first. */
  publish(topic: string, payload: Buffer, opts: IClientPublishOptions, cb: PacketCallback): void {
    // mqtt.js would queue it in this client's offline store, which nobody reads again.
    if (this.isLost) return;
    this.client.publish(topic, payload, opts, cb);
  }

  publishAsync(topic: string, payload: Buffer, opts: IClientPublishOptions): Promise<void> {
    return new Promise((resolve, reject) =>
      this.publish(topic, payload, opts, (err) => (err ? reject(err) : resolve())),
    );
  }

  /** Hands held and future inbound messages to fn, in arrival order. */
  startDelivering(fn: Inbound): void {
    if (this.stopped) return;
    this.deliver = fn;
    const held = this.held;
    this.held = [];
    for (const p of held) fn(p);
  }

  /**
   * Nothing more is handed over. What still arrives is left unacknowledged:
   * the broker keeps it in the session and sends it again on the next connection.
   */
  stopDelivering(): void {
    this.stopped = true;
    this.deliver = undefined;
    this.held = [];
  }

  /**
   * Sends the PUBACK for an inbound QoS 1 message. false when this connection
   * is gone: its packet ids mean nothing now, and the broker resends the
   * message on the next connection (dup set), which the agent's idempotency answers.
   */
  puback(messageId: number): boolean {
    if (this.isLost || !this.client.connected) return false;
    (this.client as unknown as PacketWriter)._sendPacket({
      cmd: 'puback',
      messageId,
      ...(this.protocolVersion === 5 && { reasonCode: 0 }),
    });
    return true;
  }

  /**
   * Ends the connection with DISCONNECT (the broker then discards our will;
   * the caller published the offline status first). Never throws, bounded.
   */
  async close(): Promise<void> {
    const wasLost = this.isLost;
    this.markLost('closed by the client');
    this.stopDelivering();
    if (wasLost) {
      this.client.end(true);
      return;
    }
    const ended = settleWithin(this.client.endAsync(false), CLOSE_STEP_MS);
    if (!(await ended)) this.client.end(true);
  }

  /** Drops the connection without DISCONNECT (the will stays armed). */
  abandon(reason: string): void {
    this.markLost(reason);
    this.stopDelivering();
    this.client.end(true);
  }

  private onPublish(p: InboundPacket): void {
    if (this.stopped || this.isLost) return;
    if (this.deliver) this.deliver(p);
    else this.held.push(p);
  }

  private markLost(reason: string): void {
    if (this.lostReason !== undefined) return;
    this.lostReason = reason;
    this.resolveLost(reason);
    // An 'error' does not always close the socket; make sure nothing more
    // happens on a connection we have given up on.
    if (reason !== 'closed by the client') this.client.end(true);
  }
}

/** true if p settled within ms (either way). */
async function settleWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let t!: NodeJS.Timeout;
  const timeout = new Promise<false>((resolve) => {
    t = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      p.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(t);
  }
}
