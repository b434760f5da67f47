// What the speed-ups must not break, under a pipelined load over RabbitMQ:
// reads and writes on one domain keep the documented order (a write is never
// overtaken by a later read of the old state; a read sent after a write sees
// it), events published many at a time keep per-domain order and seq, and
// nothing is lost (every reply received, every event counted).
import { randomUUID } from 'node:crypto';
import type { Agent } from '../../src/agent/agent';
import { AmqpTransport } from '../../src/bus/amqp/transport';
import { startAgent, testNode } from '../helpers/agent';
import { AMQP_URL, TestClient, deleteNodeQueues, type Received } from '../helpers/amqp-client';
import { expectEventOrder, newDomains, sendInterleaved, sendRounds, wrongReads } from '../helpers/pipelined-load';

/** Sends a command without waiting; the reply comes back through replies. */
function send(client: TestClient, node: string, command: string, data: unknown): string {
  const id = randomUUID();
  const env = { specversion: '1.0', id, source: 'test-pipeline', type: `virtbus.cmd.${command}`, data };
  client.send(node, JSON.stringify(env), { messageId: id, correlationId: id, replyTo: client.replyQueue });
  return id;
}

async function replies(client: TestClient, ids: string[], timeoutMs = 60000): Promise<Map<string, any>> {
  const want = new Set(ids);
  const got = new Map<string, any>();
  const end = Date.now() + timeoutMs;
  while (got.size < want.size) {
    for (const m of client.received) {
      const id = m.properties.correlationId;
      if (m.exchange === '' && want.has(id) && !got.has(id)) got.set(id, m.body.data);
    }
    if (got.size === want.size) break;
    if (Date.now() > end) throw new Error(`only ${got.size} of ${want.size} replies arrived`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return got;
}

describe('pipelined load on one agent (RabbitMQ, test driver)', () => {
  const node = testNode('pipe');
  let agent: Agent;
  let client: TestClient;
  const domains: string[] = [];

  beforeAll(async () => {
    client = await TestClient.connect();
    await client.bindEvents(`v1.${node}.domain.*.lifecycle`);
    agent = await startAgent({
      node,
      transport: new AmqpTransport({ endpoint: AMQP_URL, nodeId: node, prefetch: 64 }),
      dispatcher: { maxConcurrent: 32 },
    });
  });
  afterAll(async () => {
    for (const name of domains) {
      await client.call(node, 'domain.destroy', { domain: name }).catch(() => undefined);
      await client.call(node, 'domain.undefine', { domain: name }).catch(() => undefined);
    }
    await agent?.close();
    await client?.close();
    await deleteNodeQueues(node);
  });

  const domainsOf = (n: number, prefix: string) =>
    newDomains((c, d) => client.call(node, c, d), node, n, prefix, domains);
  const sendOne = (command: string, data: unknown) => send(client, node, command, data);

  test('64 in flight on one domain: every read sees the writes sent before it, none sent after it', async () => {
    const [dom] = await domainsOf(1, 'order');
    const sent = sendInterleaved(sendOne, dom);
    const got = await replies(
      client,
      sent.map((s) => s.id),
    );
    const wrong = wrongReads(sent, got);
    expect(wrong).toEqual([]);
    expect(sent.filter((s) => !got.get(s.id).ok)).toEqual([]);
  });

  test('events of 1,000 writes over 25 domains: each counted once, per-domain order and seq without gaps', async () => {
    const names = await domainsOf(25, 'events');
    const from = client.received.length;
    const { ids, expected } = sendRounds(sendOne, names);
    const got = await replies(client, ids);
    expect([...got.values()].filter((r) => !r.ok)).toEqual([]);

    const events = (): Received[] =>
      client.received.slice(from).filter((m) => m.exchange === 'virtbus.events' && /\.lifecycle$/.test(m.routingKey));
    const end = Date.now() + 30000;
    while (events().length < 1000 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expectEventOrder(
      expected,
      events().map((m) => m.body),
    );
  });
});
