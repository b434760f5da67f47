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
import { expectEventOrder, newDomains, sendInterleaved, sendRounds, wrongReads } from '../helpers/pipelined-load';

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

  const domainsOf = (n: number, prefix: string) =>
    newDomains((c, d) => client.call(node, c, d), node, n, prefix, domains);

  test('240 in flight on one domain: every reply reaches its command; every read sees the writes sent before it, none after', async () => {
    const [dom] = await domainsOf(1, 'order');
    const sent = sendInterleaved(send, dom);
    const got = await replies(sent.map((s) => s.id));
    expect(sent.filter((s) => !got.get(s.id)?.ok).map((s) => ({ ...s, got: got.get(s.id) }))).toEqual([]);
    const wrong = wrongReads(sent, got);
    expect(wrong).toEqual([]);
    // a read's reply names the domain it was asked about: replies were not crossed
    expect(sent.filter((s) => s.expect && got.get(s.id).result?.name !== dom)).toEqual([]);
  });

  test('events of 400 writes over 10 domains: each counted once, per-domain order and seq without gaps', async () => {
    const names = await domainsOf(10, 'events');
    const from = client.received.length;
    const { ids, expected } = sendRounds(send, names);
    const got = await replies(ids);
    expect([...got.values()].filter((r) => !r.ok)).toEqual([]);

    const events = () => client.received.slice(from).filter((m) => /\/lifecycle$/.test(m.topic));
    const end = Date.now() + 30000;
    while (events().length < 400 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expectEventOrder(
      expected,
      events().map((m) => m.body),
    );
  });
});
