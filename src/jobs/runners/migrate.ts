// The migration job: peer-to-peer live migration (virDomainMigrateToURI3 via
// Domain.migrate) of a guest of this node to another libvirt, watched while it
// runs (migration-watch.ts) and judged by where the guest is afterwards
// (migration-placement.ts), never by libvirt's return alone.
import type { MigrateOptions } from '../../libvirt';
import { CommandError, toWireError } from '../../errors';
import type { JobContext, JobRunner } from '../types';
import { recoverMigration } from './migrate-recover';
import {
  defaultTimeoutS,
  openDestinationReadOnly,
  type MigrateJobData,
  type MigrateResult,
  type MigrationRunnerOptions,
} from './migration-options';
import { inDoubt, migrationResult } from './migration-outcome';
import { isActive, locateGuest, verdict } from './migration-placement';
import { watchMigration, type MigrationFacts, type MigrationProgress } from './migration-watch';

export const MIGRATE_KIND = 'migrate';

export function migrationRunner(o: MigrationRunnerOptions): JobRunner<MigrateJobData, MigrateResult> {
  return {
    run: (ctx) => runMigration(ctx, o),
    recover: (ctx) => recoverMigration(ctx, o),
  };
}

function checkData(d: MigrateJobData): void {
  if (!d || typeof d.domain !== 'string' || !d.domain)
    throw new CommandError('BAD_REQUEST', 'migrate needs the domain');
  if (typeof d.destinationUri !== 'string' || !d.destinationUri)
    throw new CommandError('BAD_REQUEST', 'migrate needs the destination libvirt URI');
  if (d.timeoutS !== undefined && !(d.timeoutS > 0)) throw new CommandError('BAD_REQUEST', 'timeoutS must be positive');
}

function migrateOptions(d: MigrateJobData): MigrateOptions {
  return {
    destinationUri: d.destinationUri,
    ...(d.migrateUri && { migrateUri: d.migrateUri }),
    live: d.live !== false,
    peerToPeer: true,
    persistent: d.persistent,
    undefineSource: d.undefineSource,
    ...(d.bandwidthMiBs !== undefined && { bandwidthMiBs: d.bandwidthMiBs }),
    autoConverge: d.autoConverge,
    // Switching to post-copy later is only allowed if the migration started with the flag.
    postCopy: d.postCopy || d.onTimeout === 'postcopy',
    compressed: d.compressed,
  };
}

async function runMigration(ctx: JobContext<MigrateJobData>, o: MigrationRunnerOptions): Promise<MigrateResult> {
  const d = ctx.data;
  checkData(d);
  const dom = await o.source().domain(d.domain);
  const [info, { state }] = await Promise.all([dom.info(), dom.state()]);
  if (!isActive(state)) {
    throw new CommandError(
      'CONFLICT',
      `domain '${dom.name}' is ${state}; only a running or paused guest can be live-migrated`,
    );
  }
  const facts: MigrationFacts = {
    uuid: dom.uuid,
    name: dom.name,
    destinationUri: d.destinationUri,
    ...(d.destinationNode && { destinationNode: d.destinationNode }),
    startedAt: Date.now(),
    timeoutS: d.timeoutS ?? defaultTimeoutS(info.memoryKiB, o),
    wasPaused: state === 'paused',
  };
  // Stored before libvirt is asked: after a crash, recover() needs to know which guest, where to, since when.
  const starting: MigrationProgress = { ...facts, phase: 'starting' };
  await ctx.progress(starting);

  const call = dom.migrate(migrateOptions(d)).then(
    () => ({ ok: true as const }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const watch = await watchMigration({
    dom,
    ctx,
    facts,
    finished: call,
    pollIntervalMs: o.pollIntervalMs ?? 1000,
    onTimeout: d.onTimeout ?? 'abort',
    maxDowntimeMs: d.maxDowntimeMs,
  });
  const libvirt = await call;
  const placement = await locateGuest(o.source(), facts.uuid, d.destinationUri, {
    openDestination: o.openDestination ?? openDestinationReadOnly,
  });
  const judged = verdict(placement, libvirt.ok);
  if (judged === 'moved') return migrationResult(facts, placement, watch.last, Date.now() - facts.startedAt);

  const target = `migration of '${facts.name}' to ${d.destinationUri}`;
  const details = { source: placement.source, destination: placement.destination };
  if (judged === 'stayed') {
    const still = `the guest is still ${placement.source} on the source`;
    if (watch.cancelled) throw new CommandError('CANCELLED', `${target} was cancelled; ${still}`, details);
    if (watch.timedOut)
      throw new CommandError(
        'TIMEOUT',
        `${target} did not complete within ${facts.timeoutS} s and was aborted; ${still}`,
        details,
      );
    if (!libvirt.ok) {
      const w = toWireError(libvirt.error);
      throw new CommandError(w.code, `${target} failed: ${w.message}; ${still}`, details, w.libvirt);
    }
    throw new CommandError(
      'INTERNAL',
      `libvirt reported the ${target} as done, but ${still} and not on the destination`,
      details,
    );
  }
  throw inDoubt(
    target,
    placement,
    libvirt.ok ? 'libvirt reported success' : `libvirt reported: ${toWireError(libvirt.error).message}`,
    watch,
  );
}
