// A stand-in agent, run as its own process by reconcile.test.ts: it submits
// one migration job to a job backend (BullMQ or local, as told) with the real
// migration runner, prints "RUNNING" once libvirt's migration is under way,
// and then waits to be killed.
import {
  BullJobBackend,
  JobRunners,
  LocalJobBackend,
  MIGRATE_KIND,
  migrationRunner,
  type JobBackend,
  type MigrateJobData,
  type MigrationProgress,
} from '../../../src/jobs';
import { Connection } from '../../../src/libvirt';

interface Args {
  backend: 'bullmq' | 'local';
  node: string;
  stateDir: string;
  redisUrl: string;
  sourceUri: string;
  id: string;
  data: MigrateJobData;
}

async function main(): Promise<void> {
  const a = JSON.parse(process.env.VIRTBUS_TEST_CHILD_ARGS ?? '{}') as Args;
  const source = await Connection.open(a.sourceUri);
  const runners = new JobRunners().register(
    MIGRATE_KIND,
    migrationRunner({ source: () => source, pollIntervalMs: 250 }),
  );
  const jobs: JobBackend =
    a.backend === 'bullmq'
      ? new BullJobBackend({ node: a.node, redis: a.redisUrl, runners })
      : new LocalJobBackend({ stateDir: a.stateDir, runners });
  jobs.on('progress', (_id, p) => {
    const m = p as MigrationProgress;
    if (m.phase === 'migrating' && (m.dataProcessed ?? 0) > 0) process.stdout.write(`RUNNING ${JSON.stringify(m)}\n`);
  });
  jobs.on('completed', (id, reply) => process.stdout.write(`COMPLETED ${id} ${JSON.stringify(reply)}\n`));
  await jobs.start();
  await jobs.submit({ id: a.id, kind: MIGRATE_KIND, command: 'domain.migrate', data: a.data });
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
