// A plain amqplib client, written for the tests (not the agent's code):
// what an orchestrator in any language would do with contract v1.
import { randomUUID } from 'node:crypto';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';

export const AMQP_URL = process.env.VIRTBUS_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export interface Received {
  routingKey: string;
  exchange: string;
  properties: ConsumeMessage['properties'];
  body: any;
}

export class TestClient {
  private constructor(
    readonly conn: ChannelModel,
    readonly ch: Channel,
    readonly replyQueue: string,
  ) {}
  readonly received: Received[] = [];
  private waiters: Array<{ pred: (m: Received) => boolean; resolve: (m: Received) => void }> = [];

  static async connect(): Promise<TestClient> {
    let conn: ChannelModel;
    try {
      conn = await amqp.connect(AMQP_URL, { noDelay: true });
    } catch (e) {
      throw new Error(
        `RabbitMQ is not reachable at ${AMQP_URL} (${(e as Error).message}); start it: rabbitmq-server -detached`,
      );
    }
    const ch = await conn.createChannel();
    const q = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    const c = new TestClient(conn, ch, q.queue);
    await ch.consume(q.queue, (m) => m && c.onMessage(m), { noAck: true });
    return c;
  }

  private onMessage(m: ConsumeMessage): void {
    let body: unknown = m.content.toString(m.properties.contentType?.includes('protobuf') ? 'binary' : 'utf8');
    try {
      body = JSON.parse(body as string);
    } catch {
      /* keep text (protobuf as a binary string) */
    }
    const r = { routingKey: m.fields.routingKey, exchange: m.fields.exchange, properties: m.properties, body };
    this.received.push(r);
    this.waiters = this.waiters.filter((w) => (w.pred(r) ? (w.resolve(r), false) : true));
  }

  /**
   * Also receive events matching an events-exchange binding key on the reply
   * queue. Declares the exchange as the contract does (topic, durable), as an
   * event consumer started before any agent must: on a fresh broker it does
   * not exist yet.
   */
  async bindEvents(key: string): Promise<void> {
    await this.ch.assertExchange('virtbus.events', 'topic', { durable: true });
    await this.ch.bindQueue(this.replyQueue, 'virtbus.events', key);
  }

  waitFor(pred: (m: Received) => boolean, what: string, timeoutMs = 15000, from = 0): Promise<Received> {
    const seen = this.received.slice(from).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () =>
          reject(
            new Error(
              `timed out waiting for ${what}; received ${this.received.length}: ` +
                JSON.stringify(this.received.slice(-5).map((r) => [r.routingKey, r.body?.type ?? r.body])),
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

  /** Publishes raw bytes as a command to a node. */
  send(node: string, body: Buffer | string, props: Partial<amqp.Options.Publish> = {}): void {
    this.ch.publish('virtbus.commands', node, Buffer.isBuffer(body) ? body : Buffer.from(body), {
      contentType: 'application/cloudevents+json',
      ...props,
    });
  }

  /** Sends a command and resolves with the reply's CloudEvent. */
  async call(
    node: string,
    command: string,
    data: unknown = {},
    o: { id?: string; deadline?: string; timeoutMs?: number } = {},
  ): Promise<any> {
    const id = o.id ?? randomUUID();
    const env = {
      specversion: '1.0',
      id,
      source: 'test-orchestrator',
      type: `virtbus.cmd.${command}`,
      time: new Date().toISOString(),
      data,
      ...(o.deadline && { deadline: o.deadline }),
    };
    const from = this.received.length;
    this.send(node, JSON.stringify(env), { messageId: id, correlationId: id, replyTo: this.replyQueue });
    return (await this.replyTo(id, `${command} reply`, o.timeoutMs, from)).body;
  }

  async replyTo(id: string, what: string, timeoutMs?: number, from = 0): Promise<Received> {
    return this.waitFor((m) => m.properties.correlationId === id && m.exchange === '', what, timeoutMs, from);
  }

  async close(): Promise<void> {
    await this.conn.close().catch(() => undefined);
  }
}

/** Deletes a node's command queue (end of a test). */
export async function deleteNodeQueues(node: string): Promise<void> {
  const conn = await amqp.connect(AMQP_URL);
  const ch = await conn.createChannel();
  await ch.deleteQueue(`virtbus.cmd.${node}`).catch(() => undefined);
  await conn.close().catch(() => undefined);
}

/**
 * Cancels every job of an agent that is still queued or running (job.list,
 * job.cancel) and waits until none is left, so the next test starts with an
 * idle job system whatever the last one left behind.
 */
export async function settleAgentJobs(client: TestClient, node: string, timeoutMs = 60000): Promise<void> {
  const open = async (): Promise<Array<{ id: string; state: string }>> => {
    const lists = await Promise.all(['queued', 'running'].map((state) => client.call(node, 'job.list', { state })));
    const bad = lists.find((r) => !r.data?.ok);
    if (bad) throw new Error(`job.list on ${node} failed: ${JSON.stringify(bad.data)}`);
    return lists.flatMap((r) => r.data.result.jobs);
  };
  for (const j of await open()) await client.call(node, 'job.cancel', { id: j.id });
  const end = Date.now() + timeoutMs;
  for (let left = await open(); left.length; left = await open()) {
    if (Date.now() > end)
      throw new Error(`jobs of ${node} still not ended after ${timeoutMs} ms: ${JSON.stringify(left)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
