// The agent on the lab's real libvirtd, driving the minimal guest by
// commands over RabbitMQ, with the events a consumer sees. Afterwards the
// guest, the pool (and its directory) and the agent's queue are removed
// through libvirt directly, even if the test or the agent failed.
import type { Agent } from '../../src/agent/agent';
import type { Connection } from '../../src/libvirt';
import { TestClient, deleteNodeQueues, type Received } from '../helpers/amqp-client';
import { startAgent, testNode } from '../helpers/agent';
import { cleanupAll } from '../helpers/cleanup';
import {
  NODE1_URI,
  guestXml,
  labPoolXml,
  labUniq,
  openNode,
  removeGuest,
  removePool,
  virsh,
  waitGuestReady,
} from '../helpers/lab';

describe('agent on qemu:///system with the real guest', () => {
  const node = testNode('lab');
  const name = labUniq('agent');
  const pool = labUniq('apool');
  let agent: Agent;
  let client: TestClient;
  let conn: Connection;

  beforeAll(async () => {
    conn = await openNode(NODE1_URI); // fails with instructions if the lab is down
    client = await TestClient.connect();
    await client.bindEvents(`v1.${node}.domain.#`);
    agent = await startAgent({ node, libvirtUri: NODE1_URI });
  });
  afterAll(() =>
    cleanupAll([
      ['close the agent', () => agent?.close()],
      ['close the client', () => client?.close()],
      ['delete the queue', () => deleteNodeQueues(node)],
      ['remove the guest', () => removeGuest(name, { node1: conn })],
      ['remove the pool and its directory', () => removePool(conn, pool)],
      ['close node 1', () => conn?.close()],
    ]),
  );

  const lifecycle = (event: string, detail?: string) => (m: Received) =>
    m.body?.type === 'virtbus.event.domain.lifecycle' &&
    m.body.data.domain.name === name &&
    m.body.data.event === event &&
    (detail === undefined || m.body.data.detail === detail);
  const ok = (r: any) => {
    expect(r.data).toMatchObject({ ok: true });
    return r.data.result;
  };

  test('start, attach a new volume, detach it, outside changes, shutdown', async () => {
    ok(await client.call(node, 'domain.define', { xml: guestXml(name) }));
    expect(ok(await client.call(node, 'domain.start', { domain: name })).state).toBe('running');
    await client.waitFor(lifecycle('started', 'booted'), 'started/booted', 30000);
    await waitGuestReady(name);

    ok(await client.call(node, 'pool.define', { xml: labPoolXml(pool) }));
    ok(await client.call(node, 'pool.build', { pool }));
    expect(ok(await client.call(node, 'pool.start', { pool })).state).toBe('running');
    const vol = ok(
      await client.call(node, 'vol.create', {
        pool,
        name: 'data.qcow2',
        capacityBytes: 16 * 1024 * 1024,
        format: 'qcow2',
      }),
    );
    expect(ok(await client.call(node, 'vol.get', { pool, volume: 'data.qcow2' })).format).toBe('qcow2');

    expect(
      ok(
        await client.call(node, 'domain.attachDisk', {
          domain: name,
          source: { pool, volume: 'data.qcow2' },
          target: 'vdb',
        }),
      ),
    ).toEqual({ target: 'vdb' });
    const xml = ok(await client.call(node, 'domain.xml', { domain: name })).xml as string;
    expect(xml).toContain(vol.path);
    expect(xml).toContain("<target dev='vdb' bus='virtio'/>");

    const detached = ok(await client.call(node, 'domain.detachDisk', { domain: name, target: 'vdb' }));
    expect(detached.target).toBe('vdb');
    const removed = await client.waitFor(
      (m) => m.body?.type === 'virtbus.event.domain.device-removed' && m.body.data.domain.name === name,
      'device-removed event',
      60000,
    );
    expect(removed.body.data).toMatchObject({ event: 'device-removed', devAlias: 'virtio-disk1', node });
    expect(ok(await client.call(node, 'domain.xml', { domain: name })).xml).not.toContain(vol.path);

    virsh(NODE1_URI, 'suspend', name);
    await client.waitFor(lifecycle('suspended', 'paused'), 'suspended/paused (virsh)');
    virsh(NODE1_URI, 'resume', name);
    await client.waitFor(lifecycle('resumed', 'unpaused'), 'resumed/unpaused (virsh)');

    // an ACPI request can be missed by a guest that just booted: ask again until it stops
    let stopped: Received | undefined;
    for (let i = 0; i < 12 && !stopped; i++) {
      ok(await client.call(node, 'domain.shutdown', { domain: name }));
      stopped = await client.waitFor(lifecycle('stopped'), 'stopped', 5000).catch(() => undefined);
    }
    expect(stopped?.body.data).toMatchObject({ detail: 'shutdown', state: 'shutoff' });
    expect(ok(await client.call(node, 'domain.get', { domain: name })).state).toBe('shutoff');

    const seqs = client.received.filter((m) => m.body?.data?.domain?.name === name).map((m) => m.body.data.seq);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i));
  });
});
