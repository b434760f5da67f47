import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient as Mqtt } from 'mqtt';
import type { CloudEvent } from '../contract/envelope';
import type { ReplyData } from '../contract/events';
import {
  BROADCAST_TOPIC,
  PRESENCE_TOPIC_FILTERS,
  REPLY_TOPIC_ROOT,
  commandTopic,
  eventTopicFilter,
  statusTopic,
} from '../contract/addresses';
import { readUntilIdle, withTimeout } from '../timeout';
import {
  BROADCAST_TARGET,
  commandEnvelope,
  firstReachable,
  signingFor,
  type CallOptions,
  type ClientOptions,
  type PresenceOptions,
  type PresenceSeen,
  type VirtbusClient,
} from './types';
import { presenceOf } from './presence';
import { credentialsOf, redactUrl, tlsOptions, type Endpoint } from '../endpoint';

/** A caller name usable as one topic level: no wildcards, separators or control characters. */
function safeCaller(name: string): string {
  const clean = name.replace(/[+#/\u0000-\u001f\u007f]/g, '_').slice(0, 64);
  return clean && !clean.startsWith('$') ? clean : 'anonymous';
}

/** the MQTT 5 properties a client reads */
interface ReplyProps {
  userProperties?: Record<string, string | string[]>;
  correlationData?: Buffer;
}

/** MQTT 5 by default (Response Topic + Correlation Data); 3.1.1 puts replyto/correlationid in the envelope. */
export class MqttClient implements VirtbusClient {
  private readonly pending = new Map<string, (r: ReplyData) => void>();
  private readonly broadcasts = new Map<string, (e: CloudEvent) => void>();
  /** under virtbus/reply/<caller>/ (contract), so a broker ACL can give each caller its own replies */
  private readonly replyTopic: string;
  private watchers: Array<(e: CloudEvent) => void> = [];
  private presenceWatchers: Array<(e: CloudEvent) => void> = [];
  /** presence() reads in progress: each retained status goes to them too */
  private statusReaders: Array<(p: PresenceSeen) => void> = [];
  readonly lost: Promise<void>;

  private constructor(
    private readonly o: ClientOptions,
    private readonly client: Mqtt,
    caller: string,
  ) {
    this.replyTopic = `${REPLY_TOPIC_ROOT}/${caller}/${randomUUID()}`;
    this.lost = new Promise((resolve) => {
      client.once('close', () => resolve());
    });
  }

  static async connect(o: ClientOptions, e: Endpoint): Promise<MqttClient> {
    let caller = o.caller;
    const client = await firstReachable(e, async (url) => {
      caller ??= credentialsOf(url, e).username;
      const c = mqtt.connect(url, {
        protocolVersion: o.protocolVersion ?? 5,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        ...credentialsOf(url, e),
        ...tlsOptions(e),
      });
      try {
        await new Promise<void>((resolve, reject) => {
          c.once('connect', () => resolve());
          c.once('error', reject);
          c.once('close', () => reject(new Error(`MQTT connection to ${redactUrl(url)} closed before CONNACK`)));
        });
        return c;
      } catch (err) {
        c.end(true);
        throw err;
      }
    });
    // without TCP_NODELAY each small request waits out Nagle + delayed ACK (~40 ms a hop)
    (client.stream as unknown as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
    const c = new MqttClient(o, client, safeCaller(caller ?? 'anonymous'));
    client.on('message', (topic, payload, packet) =>
      c.onMessage(topic, payload, (packet.properties ?? {}) as ReplyProps),
    );
    await client.subscribeAsync(c.replyTopic, { qos: 1 });
    return c;
  }

  private static envelopeOf(payload: Buffer, props: ReplyProps): CloudEvent {
    const user = props.userProperties as Record<string, string> | undefined;
    let data: unknown = payload.toString();
    try {
      data = JSON.parse(data as string);
    } catch {
      /* text */
    }
    if (user?.specversion) return { ...(user as unknown as CloudEvent), data };
    return data as CloudEvent;
  }

  private onMessage(topic: string, payload: Buffer, props: ReplyProps): void {
    const env = MqttClient.envelopeOf(payload, props);
    if (topic === this.replyTopic) {
      const id = props.correlationData
        ? Buffer.from(props.correlationData).toString()
        : (env as { correlationid?: string }).correlationid;
      if (id) this.broadcasts.get(id)?.(env);
      const done = id && this.pending.get(id);
      if (done) {
        this.pending.delete(id!);
        done(env.data as ReplyData);
      }
      return;
    }
    const status = /^virtbus\/v1\/([^/]+)\/status$/.exec(topic);
    if (status) {
      // retained status: known at once, even for agents that started before us
      const d = env as unknown as Record<string, unknown>;
      const seen = presenceOf(d, 'will');
      if (seen) for (const r of this.statusReaders) r(seen);
      if (d && typeof d === 'object' && d.status) {
        for (const w of this.presenceWatchers)
          w({
            specversion: '1.0',
            id: `status-${status[1]}`,
            source: `virtbus://${status[1]}`,
            type: `virtbus.event.agent.${String(d.status)}`,
            data: d,
          });
      }
      return;
    }
    const presence = /^virtbus\/v1\/[^/]+\/agent\/[^/]+\/(online|heartbeat|offline)$/.test(topic);
    for (const w of presence ? this.presenceWatchers : this.watchers) w(env);
  }

  async watchPresence(onPresence: (e: CloudEvent) => void): Promise<void> {
    this.presenceWatchers.push(onPresence);
    await this.client.subscribeAsync(PRESENCE_TOPIC_FILTERS, { qos: 0 });
  }

  /** Every agent's retained status: the broker sends them all right after the SUBACK. */
  async presence(o: PresenceOptions = {}): Promise<PresenceSeen[]> {
    const latest = new Map<string, PresenceSeen>();
    const filter = statusTopic('+');
    let reader: ((p: PresenceSeen) => void) | undefined;
    await readUntilIdle(o, async (seen) => {
      reader = (p) => {
        latest.set(p.node, p);
        seen();
      };
      this.statusReaders.push(reader);
      await this.client.subscribeAsync(filter, { qos: 0 });
    }).finally(() => {
      this.statusReaders = this.statusReaders.filter((r) => r !== reader);
    });
    // watchPresence() holds the same filter (PRESENCE_TOPIC_FILTERS): leave it to it
    if (this.presenceWatchers.length === 0) await this.client.unsubscribeAsync(filter).catch(() => undefined);
    return [...latest.values()];
  }

  async call(command: string, data?: unknown, o: CallOptions = {}): Promise<ReplyData> {
    const v5 = (this.o.protocolVersion ?? 5) === 5;
    const id = o.id ?? randomUUID();
    const node = o.node ?? this.o.node;
    const env = commandEnvelope(command, data, this.o.source ?? 'virtbus-cli', {
      ...o,
      id,
      extra: v5 ? {} : { replyto: this.replyTopic, correlationid: id },
      ...signingFor(this.o, node),
    });
    const reply = new Promise<ReplyData>((resolve) => this.pending.set(id, resolve));
    await this.client.publishAsync(commandTopic(node), JSON.stringify(env), {
      qos: 1,
      ...(v5 && {
        properties: {
          responseTopic: this.replyTopic,
          correlationData: Buffer.from(id),
          contentType: 'application/cloudevents+json',
        },
      }),
    });
    return withTimeout(reply, o.timeoutMs ?? 30000, `reply from node ${node}`).finally(() => this.pending.delete(id));
  }

  async broadcast(command: string, data: unknown, onReply: (reply: CloudEvent) => void): Promise<() => void> {
    const v5 = (this.o.protocolVersion ?? 5) === 5;
    const id = commandEnvelope(command, data, '').id;
    const env = commandEnvelope(command, data, this.o.source ?? 'virtbus-cli', {
      id,
      extra: v5 ? {} : { replyto: this.replyTopic, correlationid: id },
      ...signingFor(this.o, BROADCAST_TARGET),
    });
    this.broadcasts.set(id, onReply);
    await this.client.publishAsync(BROADCAST_TOPIC, JSON.stringify(env), {
      qos: 1,
      ...(v5 && {
        properties: {
          responseTopic: this.replyTopic,
          correlationData: Buffer.from(id),
          contentType: 'application/cloudevents+json',
        },
      }),
    });
    return () => this.broadcasts.delete(id);
  }

  async watch(onEvent: (e: CloudEvent) => void, node = this.o.node): Promise<void> {
    this.watchers.push(onEvent);
    await this.client.subscribeAsync(eventTopicFilter(node), { qos: 1 });
  }

  async close(): Promise<void> {
    await this.client.endAsync().catch(() => undefined);
  }
}
