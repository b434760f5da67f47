// SIGTERM with a command in flight: its reply is still delivered, then the
// agent says offline and exits 0. The command is held in libvirt honestly:
// the guest's QEMU is SIGSTOPped until after the signal.
import { randomUUID } from 'node:crypto';
import { TestClient, AMQP_URL, deleteNodeQueues } from '../helpers/amqp-client';
import { spawnAgent, type AgentProcess } from '../helpers/agent-process';
import { testNode } from '../helpers/agent';
import { NODE1_URI, guestXml, labUniq, openNode, qemuPid, removeDomain, waitGuestReady } from '../helpers/lab';
import type { Connection } from '../../src/libvirt';

test('graceful shutdown delivers the in-flight reply, then offline, and exits 0', async () => {
  const node = testNode('term');
  const name = labUniq('term');
  let conn: Connection | undefined;
  let client: TestClient | undefined;
  let proc: AgentProcess | undefined;
  let pid = 0;
  try {
    conn = await openNode(NODE1_URI);
    await conn.createDomain(guestXml(name));
    await waitGuestReady(name);
    client = await TestClient.connect();
    await client.bindEvents(`v1.${node}.agent.*.offline`);
    proc = await spawnAgent(['--node-id', node, '--libvirt-uri', NODE1_URI, '--bus', AMQP_URL, '--heartbeat', '0']);

    pid = qemuPid(name);
    process.kill(pid, 'SIGSTOP');
    const id = randomUUID();
    client.send(node, JSON.stringify({ specversion: '1.0', id, source: 't', type: 'virtbus.cmd.domain.suspend', data: { domain: name } }),
      { messageId: id, correlationId: id, replyTo: client.replyQueue });
    await new Promise((r) => setTimeout(r, 1000));
    expect(client.received).toHaveLength(0); // still running inside libvirt

    proc.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(pid, 'SIGCONT');
    pid = 0;

    const reply = await client.replyTo(id, 'reply of the in-flight command', 20000);
    expect(reply.body.data).toMatchObject({ ok: true, result: { name, state: 'paused' } });
    await client.waitFor((m) => m.body?.type === 'virtbus.event.agent.offline', 'offline', 20000);
    expect(client.received.map((m) => (m.exchange === '' ? 'reply' : m.body.type))).toEqual(['reply', 'virtbus.event.agent.offline']);
    expect(await proc.exited).toBe(0);
  } finally {
    if (pid) process.kill(pid, 'SIGCONT');
    if (proc && proc.child.exitCode === null) proc.child.kill('SIGKILL');
    await removeDomain(conn, name);
    await conn?.close();
    await client?.close();
    await deleteNodeQueues(node);
  }
});
