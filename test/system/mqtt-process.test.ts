// The agent process on Mosquitto (MQTT 5): its Last Will marks it offline
// when it is SIGKILLed, and its persistent session keeps a command sent while
// it was down, which then runs exactly once.
import { randomUUID } from 'node:crypto';
import { removeAgentState, spawnAgent, type AgentProcess } from '../helpers/agent-process';
import { testNode } from '../helpers/agent';
import { MqttTestClient } from '../helpers/mqtt-client';
import { forgetAgent } from '../helpers/mqtt';
import { NODE1_URI, labPoolXml, labUniq, openNode, removePool } from '../helpers/lab';

const URL = process.env.VIRTBUS_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const args = (node: string, libvirt = 'test:///default') => [
  '--node-id',
  node,
  '--bus',
  URL,
  '--mqtt-version',
  '5',
  '--libvirt-uri',
  libvirt,
  '--heartbeat',
  '0',
];

describe('agent process over MQTT 5 (Mosquitto)', () => {
  const procs: AgentProcess[] = [];
  const start = async (a: string[]) => {
    const p = await spawnAgent(a);
    procs.push(p);
    return p;
  };
  afterEach(async () => {
    for (const p of procs.splice(0))
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGKILL');
        await p.exited;
      }
  });

  test('SIGKILL → retained offline from the Last Will; restart → online', async () => {
    const node = testNode('will');
    const client = await MqttTestClient.connect(URL, 5);
    try {
      await client.subscribe(`virtbus/v1/${node}/status`);
      const status = (s: string, from: number) =>
        client.waitFor(
          (m) => client.received.indexOf(m) >= from && m.topic === `virtbus/v1/${node}/status` && m.body?.status === s,
          `status ${s}`,
          20000,
        );
      let from = client.received.length;
      const first = await start(args(node));
      await status('online', from);
      from = client.received.length;
      first.child.kill('SIGKILL');
      const offline = await status('offline', from);
      expect(offline.retain || offline.topic).toBeTruthy();
      // a late subscriber sees the retained offline
      const late = await MqttTestClient.connect(URL, 5);
      await late.subscribe(`virtbus/v1/${node}/status`);
      expect((await late.waitFor((m) => m.topic === `virtbus/v1/${node}/status`, 'retained status')).body.status).toBe(
        'offline',
      );
      await late.close();
      from = client.received.length;
      await start(args(node));
      await status('online', from);
    } finally {
      await client.close();
      for (const p of procs)
        if (p.child.exitCode === null) {
          p.child.kill('SIGTERM');
          await p.exited;
        }
      await forgetAgent(URL, 5, node);
      removeAgentState(node);
    }
  });

  test('a command sent while the agent was down runs once after it is back', async () => {
    const node = testNode('sess');
    const pool = labUniq('sess');
    const conn = await openNode(NODE1_URI);
    const client = await MqttTestClient.connect(URL, 5);
    try {
      const first = await start(args(node, NODE1_URI));
      first.child.kill('SIGKILL');
      await first.exited;
      const id = randomUUID();
      client.sendRaw(node, JSON.stringify(client.envelope('pool.define', { xml: labPoolXml(pool) }, id)), id);
      await new Promise((r) => setTimeout(r, 1000));
      expect(client.received.filter(client.isReplyTo(id))).toHaveLength(0);

      const second = await start(args(node, NODE1_URI));
      const reply = await client.waitFor(client.isReplyTo(id), 'reply after the restart', 20000);
      expect(reply.body.data).toMatchObject({ ok: true, result: { name: pool } });
      await new Promise((r) => setTimeout(r, 2000));
      expect(client.received.filter(client.isReplyTo(id))).toHaveLength(1);
      expect((await conn.storagePool(pool)).name).toBe(pool);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      for (const p of procs)
        if (p.child.exitCode === null && p.child.signalCode === null) {
          p.child.kill('SIGKILL');
          await p.exited;
        }
      await client.close();
      await removePool(conn, pool);
      await conn.close();
      await forgetAgent(URL, 5, node);
      removeAgentState(node);
    }
  });
});
