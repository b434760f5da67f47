// Reconciliation after an agent died mid-migration. The first agent is a
// real process (support/migrating-agent.ts) that starts a bandwidth-capped
// migration through the job backend and is killed with SIGKILL; libvirt's
// peer-to-peer migration carries on without it. A new backend instance over
// the same storage must then finish the job from what libvirt and the two
// nodes say — and never start a second migration.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { ReplyData } from '../../src/contract/events';
import {
  JobRunners,
  MIGRATE_KIND,
  migrationRunner,
  type JobBackend,
  type JobContext,
  type MigrateJobData,
  type MigrationProgress,
} from '../../src/jobs';
import type { Connection } from '../../src/libvirt';
import { eventually } from '../helpers/events';
import { cleanupAll } from '../helpers/cleanup';
import {
  NODE1_URI,
  NODE2_MIGRATE_URI,
  NODE2_URI,
  guestXml,
  labUniq,
  openNode,
  removeGuest,
  waitGuestReady,
} from '../helpers/lab';
import { KITS, REDIS_URL, requireRedis, uniq, type BackendKit } from './support/backends';

const CHILD = [join(__dirname, 'support', 'ts-child.js'), join(__dirname, 'support', 'migrating-agent.ts')];

describe.each(KITS)('%s backend: a migration whose agent died', (_name, makeKit) => {
  let node1: Connection;
  let node2: Connection;
  let kit: BackendKit;
  let name: string;

  beforeAll(async () => {
    await requireRedis();
    node1 = await openNode(NODE1_URI);
    node2 = await openNode(NODE2_URI);
  });
  afterAll(() =>
    cleanupAll([
      ['close node 1', () => node1?.close()],
      ['close node 2', () => node2?.close()],
    ]),
  );
  beforeEach(async () => {
    kit = makeKit();
    name = labUniq('recon');
    await node1.createDomain(guestXml(name));
    await waitGuestReady(name);
  });
  // libvirt's migration first (aborted, so the next agent's runners end too), then the job storage
  afterEach(() =>
    cleanupAll([
      ['abort the migration, remove the guest from both nodes', () => removeGuest(name, { node1, node2 })],
      ['close the job backends, delete their storage', () => kit?.cleanup()],
    ]),
  );

  const stateOn = async (conn: Connection) => {
    try {
      return (await (await conn.domain(name)).state()).state;
    } catch (e) {
      if ((e as { codeName?: string }).codeName === 'VIR_ERR_NO_DOMAIN') return 'gone';
      throw e;
    }
  };

  /** Starts the migration in a child agent, waits until data flows, kills the agent. */
  async function agentDiesMidMigration(): Promise<string> {
    const id = uniq('migjob');
    const data: MigrateJobData = {
      domain: name,
      destinationUri: NODE2_URI,
      migrateUri: NODE2_MIGRATE_URI,
      bandwidthMiBs: 1,
    };
    const child = spawn(process.execPath, CHILD, {
      env: {
        ...process.env,
        VIRTBUS_TEST_CHILD_ARGS: JSON.stringify({
          backend: kit.name,
          node: kit.node,
          stateDir: kit.stateDir,
          redisUrl: REDIS_URL,
          sourceUri: NODE1_URI,
          id,
          data,
        }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (b) => {
      out += b;
    });
    child.stderr!.on('data', (b) => {
      err += b;
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await eventually(
        async () => {
          if (child.exitCode !== null) throw new Error(`the child agent exited with ${child.exitCode}: ${err}`);
          return out.includes('RUNNING');
        },
        'the child agent to report its migration running',
        60000,
        50,
      );
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect(out).not.toContain('COMPLETED');
    expect((await (await node1.domain(name)).jobStats()).type).toBe('unbounded'); // libvirt carries on alone
    return id;
  }

  /** The next agent: the real runner, counting how it is entered. */
  function nextAgent() {
    const real = migrationRunner({ source: () => node1, pollIntervalMs: 250 });
    const calls = { run: 0, recover: 0 };
    const runners = new JobRunners().register<MigrateJobData, unknown>(MIGRATE_KIND, {
      run: (ctx: JobContext<MigrateJobData>) => {
        calls.run++;
        return real.run(ctx);
      },
      recover: (ctx: JobContext<MigrateJobData>) => {
        calls.recover++;
        return real.recover!(ctx);
      },
    });
    const jobs: JobBackend = kit.make({ runners });
    const progress: MigrationProgress[] = [];
    const replies = new Map<string, ReplyData>();
    jobs.on('progress', (_id, p) => progress.push(p as MigrationProgress));
    jobs.on('completed', (id, r) => replies.set(id, r));
    const reply = (id: string) => eventually(async () => replies.get(id), `job ${id} to be reconciled`, 60000, 100);
    return { jobs, calls, progress, reply };
  }

  test('re-attaches to the migration libvirt still runs and completes the job when it finishes', async () => {
    const id = await agentDiesMidMigration();
    const next = nextAgent();
    expect(await next.jobs.get(id)).toMatchObject({ state: 'running' });
    expect(await next.jobs.start()).toMatchObject({ recovered: [id], requeued: [] });
    await eventually(
      async () => next.progress.some((p) => p.phase === 'reattached' && p.dataProcessed! > 0),
      'progress of the re-attached migration',
    );
    // Let the migration finish: lift the bandwidth cap of the running job.
    await (await node1.domain(name)).setMigrationMaxSpeed(1000);

    const r = await next.reply(id);
    if (!r.ok) throw new Error(`reconciled as failed: ${JSON.stringify(r.error)}`);
    expect(r.result).toMatchObject({
      name,
      state: 'running',
      recovered: true,
      downtimeMs: expect.any(Number),
      bytes: expect.any(Number),
    });
    expect(await next.jobs.get(id)).toMatchObject({ state: 'succeeded', recovered: true });
    expect(await stateOn(node2)).toBe('running');
    expect(await stateOn(node1)).toBe('gone');
    expect(next.calls).toEqual({ run: 0, recover: 1 });
  });

  test('a migration that finished while no agent ran is reconciled as succeeded from the destination', async () => {
    const id = await agentDiesMidMigration();
    await (await node1.domain(name)).setMigrationMaxSpeed(1000);
    await eventually(
      async () => (await stateOn(node2)) === 'running' && (await stateOn(node1)) === 'gone',
      'the guest to arrive on node 2',
    );

    const next = nextAgent();
    await next.jobs.start();
    const r = await next.reply(id);
    if (!r.ok) throw new Error(`reconciled as failed: ${JSON.stringify(r.error)}`);
    expect(r.result).toMatchObject({ name, state: 'running', recovered: true, downtimeMs: expect.any(Number) });
    expect(next.calls).toEqual({ run: 0, recover: 1 });
    expect(await stateOn(node2)).toBe('running');
  });

  test('a migration libvirt no longer runs, the guest still on the source, is reconciled as failed', async () => {
    const id = await agentDiesMidMigration();
    const dom = await node1.domain(name);
    await dom.abortJob();
    await eventually(async () => (await dom.jobStats()).type === 'none', 'the migration to be aborted');

    const next = nextAgent();
    await next.jobs.start();
    const r = await next.reply(id);
    expect(r).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(!r.ok && r.error.message).toMatch(
      /^the agent stopped during the migration of .*; libvirt no longer runs that migration and the guest is still running on the source: the migration did not complete$/,
    );
    expect((await next.jobs.get(id))!.state).toBe('failed');
    expect(await stateOn(node1)).toBe('running');
    expect(await stateOn(node2)).toBe('gone');
    expect(next.calls).toEqual({ run: 0, recover: 1 });
  });
});
