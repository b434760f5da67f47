// The pipelined-load guarantees of pipelined.test.ts, over MQTT 5 (Mosquitto),
// where the agent holds its socket's writes for a whole event-loop turn
// (src/bus/coalesce.ts, 'turn') and batches its libvirt pool's wake-ups
// (src/libvirt/binding.ts): many replies and events leave in one write, and
// still every reply comes back to its command (Correlation Data), a read sent
// after a write sees it and one sent before does not, and the events of many
// writes keep per-domain order and seq with nothing lost.
import { randomUUID } from 'node:crypto';
import type { Agent } from '../../src/agent/agent';
import { MqttTransport } from '../../src/bus/mqtt/transport';
import { startAgent } from '../helpers/agent';
import { cleanupAll } from '../helpers/cleanup';
import { MOSQUITTO_V5, forgetAgent, mqttNodeId } from '../helpers/mqtt';
import { MqttTestClient, type MqttReceived } from '../helpers/mqtt-client';

const domainXml = (name: string) =>
  `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`;

describe('pipelined load on one agent (Mosquitto MQTT 5, test driver)', () => {
  const node = mqttNodeId('pipe');
  let url = '';
  let agent: Agent | undefined;
  let client: MqttTestClient;
  const domains: string[] = [];

  beforeAll(async () => {
    url = await MOSQUITTO_V5.setup();
    client = await MqttTestClient.connect(url, 5);
    await client.subscribe(`virtbus/v1/${node}/domain/+/lifecycle`);
    agent = await startAgent({
      node,
      transport: new MqttTransport({ endpoint: url, nodeId: node, protocolVersion: 5, receiveMaximum: 64 }),
      dispatcher: { maxConcurrent: 32 },
    });
  });

  afterAll(() =>
    cleanupAll([
      [
        'remove the domains',
        async () => {
          for (const name of domains) {
            await client.call(node, 'domain.destroy', { domain: name }).catch(() => undefined);
            await client.call(node, 'domain.undefine', { domain: name }).catch(() => undefined);
          }
        },
      ],
      ['close the agent', () => agent?.close()],
      ['close the client', () => client?.close()],
      ["forget the agent's session and status", () => forgetAgent(url, 5, node)],
    ]),
  );

  /** Publishes a command without waiting; its reply comes back with the id as Correlation Data. */
  function send(command: string, data: unknown): string {
    const id = randomUUID();
    client.sendRaw(node, JSON.stringify(client.envelope(command, data, id)), id);
    return id;
  }

  async function replies(ids: string[], timeoutMs = 60000): Promise<Map<string, any>> {
    const want = new Set(ids);
    const got = new Map<string, any>();
    const end = Date.now() + timeoutMs;
    let seen = 0;
    for (;;) {
      for (; seen < client.received.length; seen++) {
        const m: MqttReceived = client.received[seen];
        if (m.topic !== client.replyTopic) continue;
        const id = Buffer.from(m.properties.correlationData ?? []).toString();
        if (!want.has(id)) continue;
        // exactly one reply per command
        expect(got.has(id)).toBe(false);
        got.set(id, m.body.data);
      }
      if (got.size === want.size) return got;
      if (Date.now() > end) throw new Error(`only ${got.size} of ${want.size} replies arrived`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function newDomains(n: number, prefix: string): Promise<string[]> {
    const names = Array.from({ length: n }, (_, i) => `${node}-${prefix}-${i}`);
    for (const name of names) {
      domains.push(name);
      expect((await client.call(node, 'domain.define', { xml: domainXml(name) })).data.ok).toBe(true);
      expect((await client.call(node, 'domain.start', { domain: name })).data.ok).toBe(true);
    }
    return names;
  }

  test('240 in flight on one domain: every reply reaches its command; every read sees the writes sent before it, none after', async () => {
    const [dom] = await newDomains(1, 'order');
    const sent: Array<{ id: string; command: string; expect?: string }> = [];
    let state = 'running';
    for (let i = 0; i < 60; i++) {
      const write = i % 2 === 0 ? 'domain.suspend' : 'domain.resume';
      sent.push({ id: send(write, { domain: dom }), command: write });
      state = write === 'domain.suspend' ? 'paused' : 'running';
      for (let r = 0; r < 3; r++)
        sent.push({ id: send('domain.get', { domain: dom }), command: 'domain.get', expect: state });
    }
    const got = await replies(sent.map((s) => s.id));
    expect(sent.filter((s) => !got.get(s.id)?.ok).map((s) => ({ ...s, got: got.get(s.id) }))).toEqual([]);
    const wrong = sent
      .filter((s) => s.expect && got.get(s.id).result?.state !== s.expect)
      .map((s) => ({ ...s, got: got.get(s.id), i: sent.indexOf(s) }));
    expect(wrong).toEqual([]);
    // a read's reply names the domain it was asked about: replies were not crossed
    expect(sent.filter((s) => s.expect && got.get(s.id).result?.name !== dom)).toEqual([]);
  });

  test('events of 400 writes over 10 domains: each counted once, per-domain order and seq without gaps', async () => {
    const names = await newDomains(10, 'events');
    const from = client.received.length;
    const ids: string[] = [];
    const expected = new Map<string, string[]>(names.map((n) => [n, []]));
    for (let round = 0; round < 40; round++) {
      for (const name of names) {
        const command = round % 2 === 0 ? 'domain.suspend' : 'domain.resume';
        ids.push(send(command, { domain: name }));
        expected.get(name)!.push(round % 2 === 0 ? 'suspended' : 'resumed');
      }
    }
    const got = await replies(ids);
    expect([...got.values()].filter((r) => !r.ok)).toEqual([]);

    const events = () => client.received.slice(from).filter((m) => /\/lifecycle$/.test(m.topic));
    const end = Date.now() + 30000;
    while (events().length < 400 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    const byDomain = new Map<string, Array<{ event: string; seq: number }>>();
    for (const m of events()) {
      const d = m.body.data;
      if (!expected.has(d.domain.name)) continue;
      byDomain.set(d.domain.name, [...(byDomain.get(d.domain.name) ?? []), { event: d.event, seq: d.seq }]);
    }
    for (const name of names) {
      const seen = byDomain.get(name) ?? [];
      expect({ name, events: seen.map((e) => e.event) }).toEqual({ name, events: expected.get(name) });
      const seqs = seen.map((e) => e.seq);
      expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i));
    }
  });
});
