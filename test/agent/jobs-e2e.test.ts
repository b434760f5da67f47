// save/restore, snapshots and volume clone as jobs on a real qcow2-backed
// guest, the same suite on both job backends (BullMQ/Redis and the local file).
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Agent } from '../../src/agent/agent';
import type { JobBackendConfigWithoutRunners } from '../../src/agent/agent';
import type { Connection, StoragePool } from '../../src/libvirt';
import { TestClient, deleteNodeQueues } from '../helpers/amqp-client';
import { REDIS_URL, startAgent, testNode } from '../helpers/agent';
import { LAB_DIR, NODE1_URI, guestXml, labUniq, openNode, removeDomain, waitGuestReady } from '../helpers/lab';

const BACKENDS: Array<[string, (node: string) => JobBackendConfigWithoutRunners]> = [
  ['BullMQ on Redis', (node) => ({ type: 'redis', node, redis: REDIS_URL, prefix: `virtbus-test-${process.pid}` })],
  ['local file', () => ({ type: 'local', stateDir: mkdtempSync(join(tmpdir(), 'virtbus-jobs-')) })],
];

describe.each(BACKENDS)('jobs on %s', (_label, backend) => {
  const node = testNode('jobs');
  const name = labUniq('jobs');
  const poolName = labUniq('jpool');
  const saveDir = mkdtempSync(join(tmpdir(), 'virtbus-save-'));
  let agent: Agent;
  let client: TestClient;
  let conn: Connection;
  let pool: StoragePool;

  beforeAll(async () => {
    conn = await openNode(NODE1_URI);
    pool = await conn.createStoragePool(`<pool type='dir'><name>${poolName}</name><target><path>${LAB_DIR}/pools/${poolName}</path></target></pool>`, { build: true });
    const root = await pool.createVolume(`<volume><name>root.qcow2</name><capacity unit='MiB'>64</capacity><target><format type='qcow2'/></target></volume>`);
    await pool.createVolume(`<volume><name>data.raw</name><capacity unit='MiB'>256</capacity><allocation unit='MiB'>256</allocation></volume>`);
    await conn.defineDomain(guestXml(name, await root.path()));
    client = await TestClient.connect();
    await client.bindEvents(`v1.${node}.job.#`);
    agent = await startAgent({ node, libvirtUri: NODE1_URI, jobs: { backend: backend(node), saveDir, progressIntervalMs: 100 } });
  });

  afterAll(async () => {
    await agent?.close();
    await client?.close();
    await deleteNodeQueues(node);
    const d = await conn.domain(name).catch(() => undefined);
    for (const s of (await d?.snapshots().catch(() => [])) ?? []) await s.delete().catch(() => undefined);
    await removeDomain(conn, name);
    for (const v of await pool.volumes().catch(() => [])) await v.delete().catch(() => undefined);
    await pool.destroy().catch(() => undefined);
    await conn.close();
  });

  const ok = (r: any) => { expect(r.data).toMatchObject({ ok: true }); return r.data.result; };
  const call = (c: string, data: unknown) => client.call(node, c, data, { timeoutMs: 120000 });

  test('snapshot create, list, revert, delete on a running qcow2-backed guest', async () => {
    ok(await call('domain.start', { domain: name }));
    await waitGuestReady(name);
    expect(ok(await call('domain.snapshot.create', { domain: name, snapshot: 's1', description: 'before' }))).toMatchObject({ name, snapshot: 's1' });
    expect(ok(await call('domain.snapshot.list', { domain: name })).snapshots).toEqual([expect.objectContaining({ name: 's1', state: 'running' })]);
    expect(ok(await call('domain.snapshot.revert', { domain: name, snapshot: 's1' }))).toMatchObject({ snapshot: 's1', state: 'running' });
    expect(ok(await call('domain.snapshot.delete', { domain: name, snapshot: 's1' }))).toEqual({ snapshot: 's1' });
    expect(ok(await call('domain.snapshot.list', { domain: name })).snapshots).toEqual([]);
  });

  test('save to the save directory and restore', async () => {
    const saved = ok(await call('domain.save', { domain: name, path: `${name}.sav` }));
    expect(saved.path).toBe(join(saveDir, `${name}.sav`));
    expect((await (await conn.domain(name)).state())).toEqual({ state: 'shutoff', reason: 'saved' });
    expect(ok(await call('domain.restore', { path: `${name}.sav` }))).toMatchObject({ name, state: 'running' });
    // outside the save directory: refused
    expect((await call('domain.save', { domain: name, path: '/etc/passwd' })).data.error.code).toBe('FORBIDDEN');
  });

  test('vol.clone reports progress and completes', async () => {
    const id = randomUUID();
    const r = await client.call(node, 'vol.clone', { pool: poolName, volume: 'data.raw', name: 'copy.raw' }, { id, timeoutMs: 120000 });
    expect(ok(r)).toMatchObject({ name: 'copy.raw', path: expect.stringContaining('copy.raw') });
    const events = client.received.filter((m) => m.routingKey.startsWith(`v1.${node}.job.${id}.`));
    const types = events.map((m) => m.body.type);
    expect(types).toEqual(expect.arrayContaining(['virtbus.event.job.started', 'virtbus.event.job.progress', 'virtbus.event.job.completed']));
    const last = events.filter((m) => m.body.type === 'virtbus.event.job.progress').pop()!.body.data.progress;
    expect(last).toMatchObject({ bytesTotal: 256 * 1024 * 1024 });
    expect((await (await pool.volume('copy.raw')).info()).capacity).toBe(256 * 1024 * 1024);
  });

  test('vol.create of a large preallocated volume runs as a job with progress', async () => {
    const id = randomUUID();
    const r = await client.call(node, 'vol.create', { pool: poolName, name: 'big.raw', capacityBytes: 1024 ** 3, allocationBytes: 1024 ** 3 }, { id, timeoutMs: 120000 });
    expect(ok(r)).toMatchObject({ name: 'big.raw', path: expect.stringContaining('big.raw') });
    const types = client.received.filter((m) => m.routingKey.startsWith(`v1.${node}.job.${id}.`)).map((m) => m.body.type);
    expect(types).toEqual(expect.arrayContaining(['virtbus.event.job.started', 'virtbus.event.job.progress', 'virtbus.event.job.completed']));
    expect((await (await pool.volume('big.raw')).info()).allocation).toBeGreaterThanOrEqual(1024 ** 3);
    await (await pool.volume('big.raw')).delete();
  });
});
