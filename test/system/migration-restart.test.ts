// kill -9 the source agent in the middle of a migration and start it again:
// the job is reconciled (never started twice) and the original caller still
// gets the final reply. Whatever happens, the agents are stopped, libvirt's
// migration aborted, the guest removed from both nodes and the agent's
// queue, Redis keys and state directory deleted.
import { randomUUID } from 'node:crypto';
import { spawnAgent, removeAgentState, type AgentProcess } from '../helpers/agent-process';
import { AMQP_URL, TestClient, deleteNodeQueues } from '../helpers/amqp-client';
import { REDIS_URL, testNode } from '../helpers/agent';
import { cleanupAfterEach } from '../helpers/cleanup';
import {
  NODE1_URI,
  NODE2_MIGRATE_URI,
  NODE2_URI,
  findDomain,
  guestXml,
  labUniq,
  openNode,
  removeGuest,
  virsh,
  waitGuestReady,
} from '../helpers/lab';
import { deleteNodeKeys } from '../helpers/redis';
import type { Connection } from '../../src/libvirt';

const defer = cleanupAfterEach();

test('a migration survives the source agent being SIGKILLed and is answered by the next run', async () => {
  const node = testNode('kill');
  const name = labUniq('kill');
  const n1 = await openNode(NODE1_URI);
  defer('close node 1', () => n1.close());
  const n2 = await openNode(NODE2_URI);
  defer('close node 2', () => n2.close());
  defer('delete the queue, the Redis keys and the state directory', async () => {
    await deleteNodeQueues(node);
    await deleteNodeKeys(node);
    removeAgentState(node);
  });
  const client = await TestClient.connect();
  defer('close the client', () => client.close());
  const procs: AgentProcess[] = [];
  // the same state directory for both runs (spawnAgent's, per node id): the restarted agent is the same agent
  const args = [
    '--node-id',
    node,
    '--libvirt-uri',
    NODE1_URI,
    '--bus',
    AMQP_URL,
    '--redis',
    REDIS_URL,
    '--job-progress-ms',
    '300',
    '--heartbeat',
    '0',
  ];

  defer('abort the migration, remove the guest from both nodes', () => removeGuest(name, { node1: n1, node2: n2 }));
  await n1.createDomain(guestXml(name));
  await waitGuestReady(name);
  await client.bindEvents(`v1.${node}.job.#`);
  defer('stop the agents', async () => {
    for (const p of procs)
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGKILL');
        await p.exited;
      }
  });
  procs.push(await spawnAgent(args));

  const id = randomUUID();
  client.send(
    node,
    JSON.stringify({
      specversion: '1.0',
      id,
      source: 't',
      type: 'virtbus.cmd.domain.migrate',
      data: { domain: name, destination: { uri: NODE2_URI, migrateUri: NODE2_MIGRATE_URI }, bandwidthMiBs: 1 },
    }),
    { messageId: id, correlationId: id, replyTo: client.replyQueue },
  );
  // a report of libvirt's running job, not the agent's own 'starting' record
  // (published before libvirt is asked: a kill then may come before the call)
  await client.waitFor(
    (m) => m.routingKey === `v1.${node}.job.${id}.progress` && m.body?.data?.progress?.phase === 'migrating',
    "progress of libvirt's migration job",
    30000,
  );

  procs[0].child.kill('SIGKILL');
  await procs[0].exited;
  // libvirt's peer-to-peer migration goes on without the agent
  expect((await (await n1.domain(name)).jobStats()).type).not.toBe('none');

  procs.push(await spawnAgent(args));
  await speedUp(n1, name);

  const reply = await client.replyTo(id, 'final reply from the restarted agent', 90000);
  expect(reply.body.data).toMatchObject({ ok: true, result: { name, recovered: true } });
  expect((await (await n2.domain(name)).state()).state).toBe('running');
  await expect(n1.domain(name)).rejects.toMatchObject({ codeName: 'VIR_ERR_NO_DOMAIN' });
  // one reply only: the migration was not started again
  await new Promise((r) => setTimeout(r, 1000));
  expect(client.received.filter((m) => m.exchange === '' && m.properties.correlationId === id)).toHaveLength(1);

  procs[1].child.kill('SIGTERM');
  expect(await procs[1].exited).toBe(0);
}, 240000);

/**
 * Lifts the migration's bandwidth limit, until libvirt reports it lifted: a
 * limit set while libvirt is still starting the migration is overwritten by
 * the migration's own bandwidth parameter when the transfer begins (seen once
 * the restarted agent came up quickly enough to get there first).
 */
async function speedUp(n1: Connection, name: string): Promise<void> {
  const end = Date.now() + 20000;
  for (;;) {
    try {
      virsh(NODE1_URI, 'migrate-setspeed', name, '10000');
    } catch (e) {
      // the migration ended while the agent was down (a small guest's memory moves
      // in seconds even at 1 MiB/s): it left node 1, and the new run must answer
      // for it all the same
      if (!(await findDomain(n1, name))) return;
      throw e;
    }
    await new Promise((r) => setTimeout(r, 500));
    let speed: string;
    try {
      speed = virsh(NODE1_URI, 'migrate-getspeed', name).trim();
    } catch {
      return; // the migration ended meanwhile
    }
    if (speed === '10000') return;
    if (Date.now() > end) throw new Error(`the migration's speed stays at ${speed} MiB/s after migrate-setspeed 10000`);
  }
}
