// migrate {to} finds peers from presence: over MQTT from the retained status,
// so an agent that started earlier is known at once.
import { PeerDirectory } from '../../src/agent/peers';
import { createLogger } from '../../src/log';
import { removeAgentState, spawnAgent } from '../helpers/agent-process';
import { testNode } from '../helpers/agent';
import { eventually } from '../helpers/events';
import { forgetAgent } from '../helpers/mqtt';
import { AMQP_URL, deleteNodeQueues } from '../helpers/amqp-client';

const URL = process.env.VIRTBUS_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

test('a peer that started earlier is resolved from its retained MQTT status', async () => {
  const node = testNode('peer');
  const proc = await spawnAgent([
    '--node-id',
    node,
    '--bus',
    URL,
    '--mqtt-version',
    '5',
    '--heartbeat',
    '0',
    '--advertise-uri',
    'qemu+tcp://peer.example/system',
    '--advertise-migrate-uri',
    'tcp://peer.example',
  ]);
  const dir = new PeerDirectory({
    endpoint: URL,
    protocolVersion: 5,
    self: testNode('self'),
    log: createLogger('silent'),
  });
  try {
    await dir.start();
    const peer = await eventually(async () => dir.resolve(node), `retained status of ${node}`, 5000, 50);
    expect(peer).toMatchObject({
      node,
      status: 'online',
      libvirtUri: 'qemu+tcp://peer.example/system',
      migrateUri: 'tcp://peer.example',
    });
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    await eventually(async () => dir.resolve(node)?.status === 'offline', 'offline status', 10000, 50);
  } finally {
    if (proc.child.exitCode === null && proc.child.signalCode === null) {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
    await dir.close();
    await forgetAgent(URL, 5, node);
    removeAgentState(node);
  }
});

test('over AMQP a peer that started earlier is found by a broadcast agent.ping, without waiting for its heartbeat', async () => {
  const node = testNode('peera');
  const proc = await spawnAgent([
    '--node-id',
    node,
    '--bus',
    AMQP_URL,
    '--heartbeat',
    '0',
    '--advertise-uri',
    'qemu+tcp://peer-a.example/system',
  ]);
  const dir = new PeerDirectory({ endpoint: AMQP_URL, self: testNode('selfa'), log: createLogger('silent') });
  try {
    await dir.start();
    const peer = await eventually(async () => dir.resolve(node), `ping reply of ${node}`, 5000, 50);
    expect(peer).toMatchObject({ node, status: 'online', libvirtUri: 'qemu+tcp://peer-a.example/system' });
  } finally {
    proc.child.kill('SIGTERM');
    await proc.exited;
    await dir.close();
    await deleteNodeQueues(node);
    removeAgentState(node);
  }
});
