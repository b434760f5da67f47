// save/restore, snapshots and volume clone as jobs on a real qcow2-backed
// guest, the same suite on both job backends (BullMQ/Redis and the local file).
// Each test starts from a known place (no job running, no snapshot, the pool
// holding only its two volumes) and the suite removes everything it made:
// guest, pool and its directory, save directory, job state, queue, Redis keys.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Agent } from '../../src/agent/agent';
import type { JobBackendConfigWithoutRunners } from '../../src/agent/agent';
import type { Connection, StoragePool } from '../../src/libvirt';
import { TestClient, deleteNodeQueues, settleAgentJobs } from '../helpers/amqp-client';
import { REDIS_URL, startAgent, testNode } from '../helpers/agent';
import { cleanupAll } from '../helpers/cleanup';
import {
  NODE1_URI,
  abortGuestJobs,
  guestXml,
  labPoolXml,
  labUniq,
  openNode,
  readyCount,
  removeGuest,
  removePool,
  waitGuestReady,
} from '../helpers/lab';
import { deleteNodeKeys } from '../helpers/redis';

interface TestBackend {
  config: JobBackendConfigWithoutRunners;
  cleanup(): Promise<void>;
}
const prefix = `virtbus-test-${process.pid}`;
const BACKENDS: Array<[string, (node: string) => TestBackend]> = [
  [
    'BullMQ on Redis',
    (node) => ({
      config: { type: 'redis', node, redis: REDIS_URL, prefix },
      cleanup: () => deleteNodeKeys(node, prefix),
    }),
  ],
  [
    'local file',
    () => {
      const stateDir = mkdtempSync(join(tmpdir(), 'virtbus-jobs-'));
      return {
        config: { type: 'local', stateDir },
        cleanup: async () => rmSync(stateDir, { recursive: true, force: true }),
      };
    },
  ],
];

describe.each(BACKENDS)('jobs on %s', (_label, makeBackend) => {
  const node = testNode('jobs');
  const name = labUniq('jobs');
  const poolName = labUniq('jpool');
  let saveDir: string | undefined;
  let backend: TestBackend | undefined;
  let agent: Agent;
  let client: TestClient;
  let conn: Connection;
  let pool: StoragePool;

  beforeAll(async () => {
    conn = await openNode(NODE1_URI);
    pool = await conn.createStoragePool(labPoolXml(poolName), { build: true });
    const root = await pool.createVolume(
      `<volume><name>root.qcow2</name><capacity unit='MiB'>64</capacity><target><format type='qcow2'/></target></volume>`,
    );
    await pool.createVolume(
      `<volume><name>data.raw</name><capacity unit='MiB'>256</capacity><allocation unit='MiB'>256</allocation></volume>`,
    );
    await conn.defineDomain(guestXml(name, await root.path()));
    saveDir = mkdtempSync(join(tmpdir(), 'virtbus-save-'));
    backend = makeBackend(node);
    client = await TestClient.connect();
    await client.bindEvents(`v1.${node}.job.#`);
    agent = await startAgent({
      node,
      libvirtUri: NODE1_URI,
      jobs: { backend: backend.config, saveDir, progressIntervalMs: 100 },
    });
  });

  afterEach(() =>
    cleanupAll([
      ["cancel the agent's jobs", () => client && agent && settleAgentJobs(client, node)],
      ['abort libvirt jobs on the guest', () => abortGuestJobs(conn, name)],
      ['wait until the agent runs no job', () => client && agent && settleAgentJobs(client, node)],
      [
        'delete snapshots left behind',
        async () => {
          const d = await conn?.domain(name).catch(() => undefined);
          for (const snap of (await d?.snapshots()) ?? []) await snap.delete();
        },
      ],
      [
        'empty the save directory',
        () => {
          for (const f of saveDir ? readdirSync(saveDir) : [])
            rmSync(join(saveDir!, f), { recursive: true, force: true });
        },
      ],
      [
        'delete volumes made by the test',
        async () => {
          for (const v of (await pool?.volumes()) ?? [])
            if (!['root.qcow2', 'data.raw'].includes(v.name)) await v.delete();
        },
      ],
    ]),
  );

  afterAll(() =>
    cleanupAll([
      ['close the agent', () => agent?.close()],
      ['close the client', () => client?.close()],
      ['delete the queue', () => deleteNodeQueues(node)],
      ['delete the job state', () => backend?.cleanup()],
      ['remove the guest', () => removeGuest(name, { node1: conn })],
      ['remove the pool and its directory', () => removePool(conn, poolName)],
      ['remove the save directory', () => saveDir && rmSync(saveDir, { recursive: true, force: true })],
      ['close node 1', () => conn?.close()],
    ]),
  );

  /** The guest running and booted, whatever the test before did with it (start it, or restore it from its save). */
  async function runningGuest(): Promise<void> {
    const dom = await conn.domain(name);
    if (await dom.isActive()) {
      if ((await dom.state()).state === 'paused') await dom.resume();
      return;
    }
    const booted = readyCount(name);
    ok(await call('domain.start', { domain: name }));
    await waitGuestReady(name, 90000, booted + 1);
  }

  const ok = (r: any) => {
    expect(r.data).toMatchObject({ ok: true });
    return r.data.result;
  };
  const call = (c: string, data: unknown) => client.call(node, c, data, { timeoutMs: 120000 });

  test('snapshot create, list, revert, delete on a running qcow2-backed guest', async () => {
    await runningGuest();
    expect(
      ok(await call('domain.snapshot.create', { domain: name, snapshot: 's1', description: 'before' })),
    ).toMatchObject({ name, snapshot: 's1' });
    expect(ok(await call('domain.snapshot.list', { domain: name })).snapshots).toEqual([
      expect.objectContaining({ name: 's1', state: 'running' }),
    ]);
    expect(ok(await call('domain.snapshot.revert', { domain: name, snapshot: 's1' }))).toMatchObject({
      snapshot: 's1',
      state: 'running',
    });
    expect(ok(await call('domain.snapshot.delete', { domain: name, snapshot: 's1' }))).toEqual({ snapshot: 's1' });
    expect(ok(await call('domain.snapshot.list', { domain: name })).snapshots).toEqual([]);
  });

  test('save to the save directory and restore', async () => {
    await runningGuest();
    const saved = ok(await call('domain.save', { domain: name, path: `${name}.sav` }));
    expect(saved.path).toBe(join(saveDir!, `${name}.sav`));
    expect(await (await conn.domain(name)).state()).toEqual({ state: 'shutoff', reason: 'saved' });
    expect(ok(await call('domain.restore', { path: `${name}.sav` }))).toMatchObject({ name, state: 'running' });
    // outside the save directory: refused
    expect((await call('domain.save', { domain: name, path: '/etc/passwd' })).data.error.code).toBe('FORBIDDEN');
  });

  test('vol.clone reports progress and completes', async () => {
    const id = randomUUID();
    const r = await client.call(
      node,
      'vol.clone',
      { pool: poolName, volume: 'data.raw', name: 'copy.raw' },
      { id, timeoutMs: 120000 },
    );
    expect(ok(r)).toMatchObject({ name: 'copy.raw', path: expect.stringContaining('copy.raw') });
    const events = client.received.filter((m) => m.routingKey.startsWith(`v1.${node}.job.${id}.`));
    const types = events.map((m) => m.body.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'virtbus.event.job.started',
        'virtbus.event.job.progress',
        'virtbus.event.job.completed',
      ]),
    );
    const last = events.filter((m) => m.body.type === 'virtbus.event.job.progress').pop()!.body.data.progress;
    expect(last).toMatchObject({ bytesTotal: 256 * 1024 * 1024 });
    expect((await (await pool.volume('copy.raw')).info()).capacity).toBe(256 * 1024 * 1024);
  });

  test('vol.create of a large preallocated volume runs as a job with progress', async () => {
    const id = randomUUID();
    const r = await client.call(
      node,
      'vol.create',
      { pool: poolName, name: 'big.raw', capacityBytes: 1024 ** 3, allocationBytes: 1024 ** 3 },
      { id, timeoutMs: 120000 },
    );
    expect(ok(r)).toMatchObject({ name: 'big.raw', path: expect.stringContaining('big.raw') });
    const types = client.received
      .filter((m) => m.routingKey.startsWith(`v1.${node}.job.${id}.`))
      .map((m) => m.body.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'virtbus.event.job.started',
        'virtbus.event.job.progress',
        'virtbus.event.job.completed',
      ]),
    );
    expect((await (await pool.volume('big.raw')).info()).allocation).toBeGreaterThanOrEqual(1024 ** 3);
  });
});
