// The migration job on the real lab: node 1 (qemu:///system) → node 2
// (qemu+tcp://127.0.0.2/system), run through a job backend as the agent will.
// Every test starts and ends with the guest in one known place — no libvirt
// job, running on node 1, absent from node 2 — and a job backend of its own,
// whatever an earlier test did or where it failed.
import type { ReplyData } from '../../src/contract/events';
import {
  JobRunners,
  LocalJobBackend,
  MIGRATE_KIND,
  migrationRunner,
  type MigrateJobData,
  type MigrationProgress,
} from '../../src/jobs';
import type { Connection } from '../../src/libvirt';
import { cleanupAll } from '../helpers/cleanup';
import { eventually } from '../helpers/events';
import {
  NODE1_URI,
  NODE2_MIGRATE_URI,
  NODE2_URI,
  abortGuestJobs,
  labUniq,
  openNode,
  removeGuest,
  resetGuest,
} from '../helpers/lab';
import { localKit, uniq, type BackendKit } from './support/backends';

/** Loopback, but no libvirt listens there. */
const UNREACHABLE_URI = 'qemu+tcp://127.0.0.3/system';

describe('migration job between the lab nodes', () => {
  let node1: Connection;
  let node2: Connection;
  const name = labUniq('jobmig');
  let kit: BackendKit | undefined;
  let jobs: LocalJobBackend | undefined;
  let progress: Map<string, MigrationProgress[]>;
  let replies: Map<string, ReplyData>;

  const migrate = async (data: Omit<MigrateJobData, 'domain'>) => {
    const id = uniq('mig');
    await jobs!.submit<MigrateJobData>({
      id,
      kind: MIGRATE_KIND,
      command: 'domain.migrate',
      data: { domain: name, ...data },
    });
    return id;
  };
  const reply = (id: string, ms = 60000) =>
    eventually(async () => replies.get(id), `migration job ${id} to end`, ms, 100);
  const progressOf = (id: string) => progress.get(id) ?? [];
  const unfinished = async () => (await jobs?.list({ states: ['queued', 'running'] })) ?? [];
  const stateOn = async (conn: Connection) => {
    try {
      return (await (await conn.domain(name)).state()).state;
    } catch (e) {
      if ((e as { codeName?: string }).codeName === 'VIR_ERR_NO_DOMAIN') return 'gone';
      throw e;
    }
  };

  beforeAll(async () => {
    node1 = await openNode(NODE1_URI);
    node2 = await openNode(NODE2_URI);
  });

  afterAll(() =>
    cleanupAll([
      ['remove the guest from both nodes', () => removeGuest(name, { node1, node2 })],
      ['close node 1', () => node1?.close()],
      ['close node 2', () => node2?.close()],
    ]),
  );

  beforeEach(async () => {
    kit = undefined;
    jobs = undefined;
    // boots the guest for the first test; checks (and if need be restores) the known place for the others
    await resetGuest(name, { node1, node2 });
    progress = new Map();
    replies = new Map();
    kit = localKit();
    jobs = kit.make({
      runners: new JobRunners().register(MIGRATE_KIND, migrationRunner({ source: () => node1, pollIntervalMs: 250 })),
    }) as LocalJobBackend;
    jobs.on('progress', (id, p) => progress.set(id, [...progressOf(id), p as MigrationProgress]));
    jobs.on('completed', (id, r) => replies.set(id, r));
    await jobs.start();
  });

  afterEach(() =>
    cleanupAll([
      [
        'cancel the jobs still going',
        async () => {
          for (const j of await unfinished()) await jobs!.cancel(j.id);
        },
      ],
      ['abort the libvirt job on the guest', () => abortGuestJobs(node1, name)],
      [
        'wait for every job to end',
        () => eventually(async () => (await unfinished()).length === 0, 'every migration job to end', 60000, 100),
      ],
      ['put the guest back: running on node 1, absent from node 2', () => resetGuest(name, { node1, node2 })],
      ['delete the job backend', () => kit?.cleanup()],
    ]),
  );

  test('an unreachable destination fails with a clear error and the guest keeps running on node 1', async () => {
    const id = await migrate({ destinationUri: UNREACHABLE_URI });
    const r = await reply(id);
    if (r.ok) throw new Error('the migration to nowhere succeeded');
    expect(r.error.message).toContain(`migration of '${name}' to ${UNREACHABLE_URI} failed: `);
    expect(r.error.message).toMatch(/127\.0\.0\.3.*; the guest is still running on the source$/);
    expect(r.error.libvirt).toBeDefined();
    expect(await stateOn(node1)).toBe('running');
    expect(await stateOn(node2)).toBe('gone');
  });

  test('cancelling a bandwidth-capped migration aborts it: CANCELLED, the guest only on node 1', async () => {
    const dom = await node1.domain(name);
    // QEMU's own default (300 ms) first: reading 777 below is the job's doing
    expect(await dom.migrationMaxDowntimeMs()).not.toBe(777);
    const id = await migrate({
      destinationUri: NODE2_URI,
      migrateUri: NODE2_MIGRATE_URI,
      bandwidthMiBs: 1,
      maxDowntimeMs: 777,
    });
    await eventually(
      async () => progressOf(id).some((p) => p.phase === 'migrating' && p.dataProcessed! > 0),
      'progress while migrating',
      30000,
      100,
    ).catch((e: Error) => {
      throw new Error(
        `${e.message}; job: ${JSON.stringify(replies.get(id))}, progress: ${JSON.stringify(progressOf(id).slice(-3))}`,
      );
    });
    // The job applies the max downtime once libvirt's migration is active; libvirt's own setting says whether it did
    // (the expected downtime in the job statistics is an estimate, not the limit).
    let downtime: number | undefined;
    await eventually(
      async () => (downtime = await dom.migrationMaxDowntimeMs()) === 777,
      'libvirt to report the max downtime of 777 ms',
      10000,
      100,
    ).catch((e: Error) => {
      throw new Error(
        `${e.message}; last read ${downtime} ms, warnings: ${JSON.stringify(progressOf(id).flatMap((p) => p.warnings ?? []))}`,
      );
    });
    expect((await jobs!.cancel(id))!.cancelRequested).toBe(true);
    const r = await reply(id);
    expect(r).toMatchObject({ ok: false, error: { code: 'CANCELLED' } });
    expect(!r.ok && r.error.message).toMatch(/was cancelled; the guest is still running on the source/);
    expect((await jobs!.get(id))!.state).toBe('cancelled');
    expect(await stateOn(node1)).toBe('running');
    expect(await stateOn(node2)).toBe('gone');
    expect((await (await node1.domain(name)).jobStats()).type).toBe('none');
  });

  test('a migration past its time limit is aborted with TIMEOUT; the guest stays on node 1', async () => {
    const id = await migrate({
      destinationUri: NODE2_URI,
      migrateUri: NODE2_MIGRATE_URI,
      bandwidthMiBs: 1,
      timeoutS: 2,
    });
    const r = await reply(id);
    expect(r).toMatchObject({ ok: false, error: { code: 'TIMEOUT' } });
    expect(!r.ok && r.error.message).toMatch(
      /did not complete within 2 s and was aborted; the guest is still running on the source/,
    );
    expect(await stateOn(node1)).toBe('running');
    expect(await stateOn(node2)).toBe('gone');
  });

  test('live-migrates the guest to node 2 with progress and downtime, time and bytes in the result', async () => {
    const uuid = (await node1.domain(name)).uuid;
    const id = await migrate({
      destinationUri: NODE2_URI,
      migrateUri: NODE2_MIGRATE_URI,
      destinationNode: 'node2',
      bandwidthMiBs: 40,
    });
    const r = await reply(id);
    if (!r.ok) throw new Error(`migration failed: ${JSON.stringify(r.error)}`);
    const seen = progressOf(id).filter((p) => p.phase === 'migrating' && p.dataProcessed! > 0);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0]).toMatchObject({
      uuid,
      name,
      destinationUri: NODE2_URI,
      dataTotal: expect.any(Number),
      iteration: expect.any(Number),
    });
    expect(seen[0].dataTotal).toBeGreaterThan(200 * 1024 * 1024); // the guest's 256 MiB
    const result = r.result as Record<string, unknown>;
    expect(result).toMatchObject({ uuid, name, node: 'node2', state: 'running' });
    expect(result.downtimeMs).toEqual(expect.any(Number));
    expect(result.totalMs as number).toBeGreaterThan(0);
    expect(result.bytes as number).toBeGreaterThan(0);
    expect(await stateOn(node2)).toBe('running');
    expect(await stateOn(node1)).toBe('gone');
  });
});
