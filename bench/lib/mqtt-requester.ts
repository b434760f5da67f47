// The load generator's MQTT 5 side: publishes QoS 1 requests with Response
// Topic + Correlation Data, and matches replies on its own reply topic.
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { CE_JSON } from '../../src/contract/envelope';
import { REPLY_TOPIC_ROOT } from '../../src/contract/addresses';

export class MqttRequester {
  private readonly waiting = new Map<string, (payload: Buffer) => void>();
  private readonly replyTopic = `${REPLY_TOPIC_ROOT}/bench-${process.pid}/${randomUUID()}`;

  private constructor(private readonly client: MqttClient) {}

  static async open(url: string): Promise<MqttRequester> {
    const client = mqtt.connect(url, { protocolVersion: 5, clean: true, reconnectPeriod: 0, connectTimeout: 5000 });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    // without TCP_NODELAY every small packet waits out Nagle + delayed ACK
    (client.stream as unknown as Partial<Socket>).setNoDelay?.(true);
    const r = new MqttRequester(client);
    client.on('message', (_topic, payload, packet) => {
      const cd = packet.properties?.correlationData;
      if (!cd) return;
      const id = Buffer.from(cd).toString();
      const done = r.waiting.get(id);
      if (done) {
        r.waiting.delete(id);
        done(payload);
      }
    });
    await client.subscribeAsync(r.replyTopic, { qos: 1 });
    return r;
  }

  /** Publishes one QoS 1 request; resolves with the reply payload, rejects after timeoutMs. */
  request(topic: string, body: Buffer, timeoutMs = 10_000, id = randomUUID()): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no reply within ${timeoutMs} ms (${topic})`));
      }, timeoutMs);
      this.waiting.set(id, (b) => {
        clearTimeout(timer);
        resolve(b);
      });
      this.client.publish(
        topic,
        body,
        {
          qos: 1,
          properties: { responseTopic: this.replyTopic, correlationData: Buffer.from(id), contentType: CE_JSON },
        },
        (err) => {
          if (err && this.waiting.delete(id)) {
            clearTimeout(timer);
            reject(err);
          }
        },
      );
    });
  }

  async close(): Promise<void> {
    await this.client.endAsync().catch(() => undefined);
  }
}
