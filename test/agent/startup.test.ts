// At start the agent publishes its snapshot before it consumes a command,
// even one that waited in its queue.
import { randomUUID } from 'node:crypto';
import { TestClient, deleteNodeQueues } from '../helpers/amqp-client';
import { startAgent, testNode } from '../helpers/agent';

test('snapshot is on the wire before the reply to a command queued while the agent was down', async () => {
  const node = testNode('snap');
  const client = await TestClient.connect();
  try {
    // a first run declares the node's queue; then the agent is down
    await (await startAgent({ node })).close();
    await client.bindEvents(`v1.${node}.agent.*.snapshot`);
    const id = randomUUID();
    client.send(
      node,
      JSON.stringify({ specversion: '1.0', id, source: 't', type: 'virtbus.cmd.domain.list', data: {} }),
      { messageId: id, correlationId: id, replyTo: client.replyQueue },
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(client.received).toHaveLength(0);

    const agent = await startAgent({ node });
    try {
      await client.replyTo(id, 'reply to the queued command');
      // reply and snapshot arrive on the same queue, in the order they were published
      const order = client.received.map((m) => (m.exchange === '' ? 'reply' : m.body.type));
      expect(order).toEqual(['virtbus.event.agent.snapshot', 'reply']);
      expect(client.received[0].body.data.bootId).toBe(agent.bootId);
    } finally {
      await agent.close();
    }
  } finally {
    await client.close();
    await deleteNodeQueues(node);
  }
});
