// A plain mqtt.js client written for the tests (not the agent's code): what
// an MQTT user of contract v1 would do. MQTT 5 uses Response Topic and
// Correlation Data and reads binary-mode CloudEvents; 3.1.1 puts replyto and
// correlationid into the structured envelope.
import { randomUUID } from 'node:crypto';
import mqtt, { type IClientPublishOptions, type MqttClient } from 'mqtt';

export interface MqttReceived {
  topic: string;
  body: any;
  retain: boolean;
  properties: Record<string, any>;
}

export class MqttTestClient {
  readonly received: MqttReceived[] = [];
  private waiters: Array<{ pred: (m: MqttReceived) => boolean; resolve: (m: MqttReceived) => void }> = [];
  readonly replyTopic = `test/replies/${randomUUID()}`;

  private constructor(
    readonly client: MqttClient,
    readonly protocolVersion: 4 | 5,
  ) {}

  static async connect(
    url: string,
    protocolVersion: 4 | 5,
    o: { username?: string; password?: string } = {},
  ): Promise<MqttTestClient> {
    const client = mqtt.connect(url, {
      protocolVersion,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      clientId: `test-${randomUUID().slice(0, 12)}`,
      ...o,
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', (e) =>
        reject(
          new Error(
            `MQTT broker at ${url} (v${protocolVersion}) not reachable: ${e.message}; start it (mosquitto -d -c /etc/mosquitto/mosquitto.conf, or bash scripts/services.sh for RabbitMQ's plugin)`,
          ),
        ),
      );
    });
    // without TCP_NODELAY each small request waits out Nagle + delayed ACK (~40 ms a hop)
    (client.stream as unknown as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
    const c = new MqttTestClient(client, protocolVersion);
    client.on('message', (topic, payload, packet) =>
      c.onMessage(topic, payload, packet.retain ?? false, (packet.properties ?? {}) as Record<string, any>),
    );
    await client.subscribeAsync(c.replyTopic, { qos: 1 });
    return c;
  }

  private onMessage(topic: string, payload: Buffer, retain: boolean, properties: Record<string, any>): void {
    let body: any = payload;
    if (!String(properties.contentType ?? '').includes('protobuf')) {
      body = payload.toString();
      try {
        body = JSON.parse(body);
      } catch {
        /* keep text */
      }
    }
    const user = properties.userProperties as Record<string, string> | undefined;
    if (user?.specversion) {
      // CloudEvents MQTT binary mode: attributes are user properties, the payload is data
      body = { ...Object.fromEntries(Object.entries(user).filter(([k]) => k !== 'datacontenttype')), data: body };
    }
    const m = { topic, body, retain, properties };
    this.received.push(m);
    this.waiters = this.waiters.filter((w) => (w.pred(m) ? (w.resolve(m), false) : true));
  }

  async subscribe(topic: string): Promise<void> {
    await this.client.subscribeAsync(topic, { qos: 1 });
  }

  waitFor(pred: (m: MqttReceived) => boolean, what: string, timeoutMs = 15000, from = 0): Promise<MqttReceived> {
    const seen = this.received.slice(from).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () =>
          reject(
            new Error(
              `timed out waiting for ${what}; got ${JSON.stringify(this.received.slice(-5).map((m) => [m.topic, m.body?.type]))}`,
            ),
          ),
        timeoutMs,
      );
      this.waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(t);
          resolve(m);
        },
      });
    });
  }

  /** Publishes a raw body as a command (MQTT 5 with reply properties). */
  sendRaw(node: string, body: Buffer | string, correlationId: string, o: { contentType?: string } = {}): void {
    const opts: IClientPublishOptions = { qos: 1 };
    if (this.protocolVersion === 5) {
      opts.properties = {
        responseTopic: this.replyTopic,
        correlationData: Buffer.from(correlationId),
        contentType: o.contentType ?? 'application/cloudevents+json',
      };
    }
    this.client.publish(`virtbus/v1/${node}/cmd`, body, opts);
  }

  envelope(command: string, data: unknown, id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      specversion: '1.0',
      id,
      source: 'test-orchestrator',
      type: `virtbus.cmd.${command}`,
      time: new Date().toISOString(),
      data,
      ...(this.protocolVersion === 4 && { replyto: this.replyTopic, correlationid: id }),
      ...extra,
    };
  }

  isReplyTo(id: string) {
    return (m: MqttReceived) =>
      m.topic === this.replyTopic &&
      (this.protocolVersion === 5
        ? Buffer.from(m.properties.correlationData ?? []).toString() === id
        : m.body?.correlationid === id);
  }

  async call(
    node: string,
    command: string,
    data: unknown = {},
    o: { id?: string; deadline?: string; timeoutMs?: number } = {},
  ): Promise<any> {
    const id = o.id ?? randomUUID();
    const from = this.received.length;
    this.sendRaw(
      node,
      JSON.stringify(this.envelope(command, data, id, o.deadline ? { deadline: o.deadline } : {})),
      id,
    );
    return (await this.waitFor(this.isReplyTo(id), `${command} reply`, o.timeoutMs, from)).body;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true).catch(() => undefined);
  }
}
