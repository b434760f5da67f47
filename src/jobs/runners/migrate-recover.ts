// Reconciliation of a migration job whose agent died: never migrate again.
// If libvirt's job is still running on the source, re-attach (watch it to
// its end, cancel and time limit included); then judge by where the guest is:
// on the destination only → succeeded; still on the source → failed, saying so.
import { CommandError } from '../../errors';
import { isLibvirtError, type Domain } from '../../libvirt';
import { enums } from '../../libvirt/names';
import type { JobContext } from '../types';
import {
  openDestinationReadOnly,
  type MigrateJobData,
  type MigrateResult,
  type MigrationRunnerOptions,
} from './migration-options';
import { inDoubt, migrationResult } from './migration-outcome';
import { locateGuest, verdict } from './migration-placement';
import { isJobActive, migrationStats } from './migration-stats';
import { watchMigration, type MigrationFacts, type WatchOutcome } from './migration-watch';

function factsOf(p: unknown): MigrationFacts | undefined {
  const f = p as Partial<MigrationFacts> | undefined;
  return f && typeof f.uuid === 'string' && typeof f.startedAt === 'number' && typeof f.timeoutS === 'number'
    ? (f as MigrationFacts)
    : undefined;
}

export async function recoverMigration(
  ctx: JobContext<MigrateJobData>,
  o: MigrationRunnerOptions,
): Promise<MigrateResult> {
  const d = ctx.data;
  const facts = factsOf(ctx.lastProgress);
  if (!facts) {
    // run() records the facts before it calls libvirt: without them libvirt was never asked.
    throw new CommandError(
      'INTERNAL',
      `the agent stopped before the migration of '${d.domain}' began; ` +
        'libvirt was not asked to migrate it and it is not started now — send a new command to migrate',
    );
  }
  let dom: Domain | undefined;
  try {
    dom = await o.source().domain(facts.uuid);
  } catch (e) {
    if (!isLibvirtError(e, 'VIR_ERR_NO_DOMAIN')) throw e;
  }
  let watch: WatchOutcome = { cancelled: ctx.signal.aborted, timedOut: false, postCopy: false, warnings: [] };
  if (dom) {
    const s = await dom.jobStats().catch(() => undefined);
    if (isJobActive(s) && s!.params.operation === enums.virDomainJobOperation.VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT) {
      await ctx.progress({ ...facts, phase: 'reattached', ...migrationStats(s!.params) }).catch(() => undefined);
      watch = await watchMigration({
        dom,
        ctx,
        facts,
        pollIntervalMs: o.pollIntervalMs ?? 1000,
        onTimeout: d.onTimeout ?? 'abort',
        maxDowntimeMs: undefined,
      });
    }
  }
  const placement = await locateGuest(o.source(), facts.uuid, facts.destinationUri, {
    openDestination: o.openDestination ?? openDestinationReadOnly,
  });
  const judged = verdict(placement, undefined);
  if (judged === 'moved') return migrationResult(facts, placement, watch.last, Date.now() - facts.startedAt, true);

  const target = `migration of '${facts.name}' to ${facts.destinationUri}`;
  const details = { source: placement.source, destination: placement.destination, recovered: true };
  if (judged === 'stayed') {
    const still = `the guest is still ${placement.source} on the source`;
    if (watch.cancelled) throw new CommandError('CANCELLED', `${target} was cancelled; ${still}`, details);
    if (watch.timedOut)
      throw new CommandError(
        'TIMEOUT',
        `${target} did not complete within ${facts.timeoutS} s and was aborted; ${still}`,
        details,
      );
    throw new CommandError(
      'INTERNAL',
      `the agent stopped during the ${target}; libvirt no longer runs that migration ` +
        `and ${still}: the migration did not complete`,
      details,
    );
  }
  throw inDoubt(target, placement, 'found after an agent restart', watch);
}
