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

const domainXml = (name: string) =>
  `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`;

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

  async function newDomains(n: number, prefix: string): Promise<string[]> {
    const names = Array.from({ length: n }, (_, i) => `${node}-${prefix}-${i}`);
    for (const name of names) {
      domains.push(name);
      expect((await client.call(node, 'domain.define', { xml: domainXml(name) })).data.ok).toBe(true);
      expect((await client.call(node, 'domain.start', { domain: name })).data.ok).toBe(true);
    }
    return names;
  }

  test('64 in flight on one domain: every read sees the writes sent before it, none sent after it', async () => {
    const [dom] = await newDomains(1, 'order');
    const sent: Array<{ id: string; command: string; expect?: string }> = [];
    let state = 'running';
    for (let i = 0; i < 60; i++) {
      const write = i % 2 === 0 ? 'domain.suspend' : 'domain.resume';
      sent.push({ id: send(client, node, write, { domain: dom }), command: write });
      state = write === 'domain.suspend' ? 'paused' : 'running';
      for (let r = 0; r < 3; r++) {
        sent.push({ id: send(client, node, 'domain.get', { domain: dom }), command: 'domain.get', expect: state });
      }
    }
    const got = await replies(
      client,
      sent.map((s) => s.id),
    );
    const wrong = sent
      .filter((s) => s.expect && got.get(s.id).result?.state !== s.expect)
      .map((s) => ({ ...s, got: got.get(s.id), i: sent.indexOf(s) }));
    expect(wrong).toEqual([]);
    expect(sent.filter((s) => !got.get(s.id).ok)).toEqual([]);
  });

  test('events of 1,000 writes over 25 domains: each counted once, per-domain order and seq without gaps', async () => {
    const names = await newDomains(25, 'events');
    const from = client.received.length;
    const ids: string[] = [];
    const expected = new Map<string, string[]>(names.map((n) => [n, []]));
    for (let round = 0; round < 40; round++) {
      for (const name of names) {
        const command = round % 2 === 0 ? 'domain.suspend' : 'domain.resume';
        ids.push(send(client, node, command, { domain: name }));
        expected.get(name)!.push(round % 2 === 0 ? 'suspended' : 'resumed');
      }
    }
    const got = await replies(client, ids);
    expect([...got.values()].filter((r) => !r.ok)).toEqual([]);

    const events = (): Received[] =>
      client.received.slice(from).filter((m) => m.exchange === 'virtbus.events' && /\.lifecycle$/.test(m.routingKey));
    const end = Date.now() + 30000;
    while (events().length < 1000 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    const byDomain = new Map<string, Array<{ event: string; seq: number }>>();
    for (const m of events()) {
      const d = m.body.data;
      if (!expected.has(d.domain.name)) continue;
      byDomain.set(d.domain.name, [...(byDomain.get(d.domain.name) ?? []), { event: d.event, seq: d.seq }]);
    }
    for (const name of names) {
      const seen = byDomain.get(name) ?? [];
      expect({ name, events: seen.map((e) => e.event) }).toEqual({ name, events: expected.get(name) });
      // consecutive seq in arrival order: nothing lost, duplicated or reordered
      const seqs = seen.map((e) => e.seq);
      expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i));
    }
  });
});
