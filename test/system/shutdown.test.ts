// SIGTERM with a command in flight: its reply is still delivered, then the
// agent says offline and exits 0. The command is held in libvirt honestly:
// the guest's QEMU is SIGSTOPped until after the signal.
import { randomUUID } from 'node:crypto';
import { TestClient, AMQP_URL, deleteNodeQueues } from '../helpers/amqp-client';
import { removeAgentState, spawnAgent } from '../helpers/agent-process';
import { testNode } from '../helpers/agent';
import { cleanupAfterEach } from '../helpers/cleanup';
import { NODE1_URI, guestXml, labUniq, openNode, qemuPid, removeGuest, waitGuestReady } from '../helpers/lab';

const defer = cleanupAfterEach();

test('graceful shutdown delivers the in-flight reply, then offline, and exits 0', async () => {
  const node = testNode('term');
  const name = labUniq('term');
  const conn = await openNode(NODE1_URI);
  defer('close node 1', () => conn.close());
  defer('remove the guest', () => removeGuest(name, { node1: conn }));
  await conn.createDomain(guestXml(name));
  await waitGuestReady(name);
  const client = await TestClient.connect();
  defer('close the client', () => client.close());
  await client.bindEvents(`v1.${node}.agent.*.offline`);
  defer('delete the queue and the agent state', async () => {
    await deleteNodeQueues(node);
    removeAgentState(node);
  });
  const proc = await spawnAgent(['--node-id', node, '--libvirt-uri', NODE1_URI, '--bus', AMQP_URL, '--heartbeat', '0']);
  defer('stop the agent', async () => {
    if (proc.child.exitCode === null && proc.child.signalCode === null) {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
  });

  const pid = qemuPid(name);
  process.kill(pid, 'SIGSTOP');
  let stopped = true;
  defer('continue QEMU', () => stopped && process.kill(pid, 'SIGCONT'));
  const id = randomUUID();
  client.send(
    node,
    JSON.stringify({ specversion: '1.0', id, source: 't', type: 'virtbus.cmd.domain.suspend', data: { domain: name } }),
    { messageId: id, correlationId: id, replyTo: client.replyQueue },
  );
  await new Promise((r) => setTimeout(r, 1000));
  expect(client.received).toHaveLength(0); // still running inside libvirt

  proc.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1000));
  process.kill(pid, 'SIGCONT');
  stopped = false;

  const reply = await client.replyTo(id, 'reply of the in-flight command', 20000);
  expect(reply.body.data).toMatchObject({ ok: true, result: { name, state: 'paused' } });
  await client.waitFor((m) => m.body?.type === 'virtbus.event.agent.offline', 'offline', 20000);
  expect(client.received.map((m) => (m.exchange === '' ? 'reply' : m.body.type))).toEqual([
    'reply',
    'virtbus.event.agent.offline',
  ]);
  expect(await proc.exited).toBe(0);
});
