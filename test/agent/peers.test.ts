// migrate {to} finds its destination by asking the broker about that one
// node, on the agent's own connection: the retained MQTT status, the AMQP
// presence log (its latest record). An agent opens one broker
// connection and sends no broadcast at start.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import amqp from 'amqplib';
import { PeerDirectory } from '../../src/agent/peers';
import { AmqpTransport } from '../../src/bus/amqp';
import { MqttTransport } from '../../src/bus/mqtt';
import type { Transport } from '../../src/bus/transport';
import { createLogger } from '../../src/log';
import { removeAgentState, spawnAgent, type AgentProcess } from '../helpers/agent-process';
import { testNode } from '../helpers/agent';
import { cleanupAfterEach } from '../helpers/cleanup';
import { forgetAgent } from '../helpers/mqtt';
import { AMQP_URL, deleteNodeQueues } from '../helpers/amqp-client';

const MQTT_URL = process.env.VIRTBUS_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const defer = cleanupAfterEach();
const log = createLogger('silent');

async function peerAgent(bus: 'amqp' | 'mqtt', label: string): Promise<{ node: string; proc: AgentProcess }> {
  const node = testNode(label);
  defer(`forget ${node}`, async () => {
    removeAgentState(node);
    if (bus === 'amqp') await deleteNodeQueues(node);
    else await forgetAgent(MQTT_URL, 5, node);
  });
  const proc = await spawnAgent([
    '--node-id',
    node,
    '--bus',
    bus === 'amqp' ? AMQP_URL : MQTT_URL,
    '--heartbeat',
    '0',
    '--advertise-uri',
    `qemu+tcp://${node}.example/system`,
    '--advertise-migrate-uri',
    `tcp://${node}.example`,
  ]);
  defer(`stop ${node}`, () => proc.kill());
  return { node, proc };
}

/** The looking agent's side: a started transport of a fresh node id, cleaned up after the test. */
async function looking(bus: 'amqp' | 'mqtt', prefix: string): Promise<{ self: string; t: Transport }> {
  const self = testNode(prefix);
  if (bus === 'amqp') defer(`delete ${self}'s queues`, () => deleteNodeQueues(self));
  else defer(`forget ${self}`, () => forgetAgent(MQTT_URL, 5, self));
  const t =
    bus === 'amqp'
      ? new AmqpTransport({ endpoint: AMQP_URL, nodeId: self })
      : new MqttTransport({ endpoint: MQTT_URL, nodeId: self, protocolVersion: 5 });
  defer('close the looking transport', () => t.close());
  await t.start({ beforeConsume: async () => undefined, onDelivery: (d) => d.reject() });
  return { self, t };
}

describe.each([
  ['MQTT 5 (retained status)', 'mqtt' as const],
  ['AMQP (presence log)', 'amqp' as const],
])('%s', (_what, bus) => {
  test('a peer that started earlier (no heartbeat) is found at once, and offline after it stopped; an unknown node is not', async () => {
    const { node, proc } = await peerAgent(bus, `peer${bus[0]}`);
    const { self, t } = await looking(bus, `self${bus[0]}`);
    const dir = new PeerDirectory({ transport: t, self, log, lookupMs: 1000 });
    expect(await dir.resolve(node)).toMatchObject({
      node,
      status: 'online',
      libvirtUri: `qemu+tcp://${node}.example/system`,
      migrateUri: `tcp://${node}.example`,
    });
    // asked again: still there (a lookup does not consume it)
    expect(await dir.resolve(node)).toMatchObject({ status: 'online' });
    expect(await proc.stop()).toBe(0);
    expect(await dir.resolve(node)).toMatchObject({ node, status: 'offline' });
    const t0 = Date.now();
    expect(await dir.resolve(testNode('nobody'))).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await dir.resolve(self)).toBeUndefined();
  });

  test('a peer that starts after the looking agent is found too', async () => {
    const { self, t } = await looking(bus, `late${bus[0]}`);
    const dir = new PeerDirectory({ transport: t, self, log, lookupMs: 3000 });
    const { node } = await peerAgent(bus, `after${bus[0]}`);
    expect(await dir.resolve(node)).toMatchObject({
      node,
      status: 'online',
      libvirtUri: `qemu+tcp://${node}.example/system`,
    });
  });
});

/** ESTABLISHED TCP connections of a process to a remote port (from /proc: no tools needed). */
function connectionsTo(pid: number, port: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      /* closed meanwhile */
    }
  }
  let n = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const remotePort = parseInt(f[2].split(':')[1], 16);
      if (remotePort === port && f[3] === '01' && inodes.has(f[9])) n++;
    }
  }
  return n;
}

test('an agent holds one broker connection and broadcasts nothing at start', async () => {
  const watcher = await amqp.connect(AMQP_URL);
  defer('close the watcher', () => watcher.close());
  const ch = await watcher.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true });
  // declared as the contract does: on a fresh broker no agent has declared it yet
  await ch.assertExchange('virtbus.broadcast', 'fanout', { durable: true });
  await ch.bindQueue(queue, 'virtbus.broadcast', '');
  const broadcasts: string[] = [];
  await ch.consume(queue, (m) => m && broadcasts.push(m.content.toString()), { noAck: true });
  const { node, proc } = await peerAgent('amqp', 'one');
  await new Promise((r) => setTimeout(r, 500));
  expect(broadcasts.filter((b) => b.includes(`virtbus://${node}`))).toEqual([]);
  expect(connectionsTo(proc.pid, 5672)).toBe(1);
});
