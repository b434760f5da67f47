// The load generator's AMQP side: publishes requests with replyTo and a
// correlation id, and matches replies on one exclusive reply queue — what
// the SDK's AmqpClient does, without its envelope handling.
import { randomUUID } from 'node:crypto';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { CE_JSON } from '../../src/contract/envelope';

export class AmqpRequester {
  private readonly waiting = new Map<string, (body: Buffer) => void>();

  private constructor(
    private readonly conn: ChannelModel,
    private readonly ch: Channel,
    private readonly replyQueue: string,
  ) {}

  static async open(url: string): Promise<AmqpRequester> {
    const conn = await amqp.connect(url, { noDelay: true });
    conn.on('error', () => undefined);
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    const r = new AmqpRequester(conn, ch, queue);
    await ch.consume(
      queue,
      (m) => {
        if (!m) return;
        const done = r.waiting.get(m.properties.correlationId as string);
        if (done) {
          r.waiting.delete(m.properties.correlationId as string);
          done(m.content);
        }
      },
      { noAck: true },
    );
    return r;
  }

  /** Publishes one request; resolves with the reply body, rejects after timeoutMs. */
  request(exchange: string, routingKey: string, body: Buffer, timeoutMs = 10_000, id = randomUUID()): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no reply within ${timeoutMs} ms (${exchange || 'default exchange'} → ${routingKey})`));
      }, timeoutMs);
      this.waiting.set(id, (b) => {
        clearTimeout(timer);
        resolve(b);
      });
      this.ch.publish(exchange, routingKey, body, {
        correlationId: id,
        messageId: id,
        replyTo: this.replyQueue,
        contentType: CE_JSON,
      });
    });
  }

  /** The underlying channel, for declarations the scenario needs. */
  get channel(): Channel {
    return this.ch;
  }

  async close(): Promise<void> {
    await this.conn.close().catch(() => undefined);
  }
}
