// libvirtd restarts under a running agent: commands that arrive meanwhile
// wait, the agent reconnects, publishes a fresh snapshot, then runs them.
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { TestClient, deleteNodeQueues } from '../helpers/amqp-client';
import { startAgent, testNode } from '../helpers/agent';
import { NODE2_URI, lab, openNode } from '../helpers/lab';

test('a command sent while libvirtd restarts runs after the reconnect snapshot', async () => {
  (await openNode(NODE2_URI)).close();
  const node = testNode('lvrc');
  const client = await TestClient.connect();
  const agent = await startAgent({ node, libvirtUri: NODE2_URI });
  try {
    await client.bindEvents(`v1.${node}.agent.*.snapshot`);
    const lost = once(agent.libvirt, 'disconnected');
    lab('restart-node2');
    await lost;
    const id = randomUUID();
    client.send(
      node,
      JSON.stringify({ specversion: '1.0', id, source: 't', type: 'virtbus.cmd.node.info', data: {} }),
      { messageId: id, correlationId: id, replyTo: client.replyQueue },
    );
    const reply = await client.replyTo(id, 'reply after reconnect', 30000);
    expect(reply.body.data).toMatchObject({ ok: true, result: { uri: NODE2_URI } });
    const order = client.received.map((m) => (m.exchange === '' ? 'reply' : m.body.data.reason));
    expect(order).toEqual(['libvirt-reconnect', 'reply']);
  } finally {
    await agent.close();
    await client.close();
    await deleteNodeQueues(node);
  }
});
