// Watches a running migration job on the source: polls its statistics and
// publishes them as progress, applies the max downtime once the job is
// active, and turns a cancel or the time limit into abortJob() (or, if asked,
// a switch to post-copy). Used by run() while virDomainMigrateToURI3 is in
// flight, and by recover() to re-attach to a job a dead agent started.
import type { Domain } from '../../libvirt';
import { sleep } from '../../reconnect/backoff';
import type { JobContext } from '../types';
import { isJobActive, migrationStats, type MigrationStats } from './migration-stats';

export type MigrationPhase =
  'starting' | 'migrating' | 'switchover' | 'postcopy' | 'cancelling' | 'aborting' | 'reattached';

/** What run() records before asking libvirt, so that recover() knows what it is looking at. */
export interface MigrationFacts {
  uuid: string;
  name: string;
  destinationUri: string;
  destinationNode?: string;
  /** epoch ms */
  startedAt: number;
  timeoutS: number;
  wasPaused: boolean;
}

export type MigrationProgress = MigrationFacts & MigrationStats & { phase: MigrationPhase; warnings?: string[] };

export interface WatchOptions {
  dom: Domain;
  ctx: JobContext;
  facts: MigrationFacts;
  pollIntervalMs: number;
  onTimeout: 'abort' | 'postcopy';
  maxDowntimeMs?: number;
  /**
   * run(): settles when virDomainMigrateToURI3 returns — the watch ends then.
   * recover(): absent — the watch ends when libvirt reports no active job.
   */
  finished?: Promise<unknown>;
}

export interface WatchOutcome {
  cancelled: boolean;
  timedOut: boolean;
  postCopy: boolean;
  last?: MigrationStats;
  warnings: string[];
}

/** After a cancel or time-out, abortJob is retried this often until it takes. */
const ABORT_RETRY_MS = 200;

/**
 * libvirt calls on a migrating domain can block for seconds (a job query
 * during the switch-over waits until the migration ends), so the loop never
 * awaits them: each kind of call has at most one in flight, and the loop
 * keeps ticking — a blocked statistics query must not hold up a cancel.
 */
export async function watchMigration(w: WatchOptions): Promise<WatchOutcome> {
  const { dom, ctx, facts } = w;
  const out: WatchOutcome = { cancelled: false, timedOut: false, postCopy: false, warnings: [] };
  const deadline = facts.startedAt + facts.timeoutS * 1000;
  let done = false;
  void w.finished?.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  let aborted = false; // abortJob() accepted
  let downtimeSet = w.maxDowntimeMs === undefined;
  let polling: Promise<void> | undefined;
  let acting: Promise<void> | undefined;
  let ended!: () => void;
  const jobEnded = new Promise<void>((resolve) => {
    ended = resolve;
  });

  const poll = async () => {
    const stats = await dom.jobStats().catch(() => undefined);
    if (done) return;
    const active = isJobActive(stats);
    // Re-attached: the job ended (or the domain is gone). In run() a NONE
    // right after the call only means libvirt has not registered it yet.
    if (!w.finished && !active) {
      done = true;
      ended();
      return;
    }
    if (!active) return;
    if (!downtimeSet) {
      downtimeSet = true;
      await dom.setMigrationMaxDowntime(w.maxDowntimeMs!).catch((e: Error) => {
        out.warnings.push(`max downtime ${w.maxDowntimeMs} ms not applied: ${e.message}`);
      });
    }
    out.last = migrationStats(stats!.params);
    const state = await dom.state().catch(() => undefined);
    if (done) return;
    const phase: MigrationPhase = out.cancelled
      ? 'cancelling'
      : out.timedOut && !out.postCopy
        ? 'aborting'
        : state?.state === 'paused' && state.reason === 'postcopy'
          ? 'postcopy'
          : state?.state === 'paused' && state.reason === 'migration'
            ? 'switchover'
            : out.postCopy
              ? 'postcopy'
              : w.finished
                ? 'migrating'
                : 'reattached';
    const p: MigrationProgress = {
      ...facts,
      phase,
      ...out.last,
      ...(out.warnings.length && { warnings: out.warnings }),
    };
    // Progress is a report, not the outcome: a store hiccup must not end the migration.
    await ctx.progress(p).catch(() => undefined);
  };

  const tryAbort = async () => {
    try {
      await dom.abortJob();
      aborted = true;
    } catch {
      // Before the job is registered or during the switch-over libvirt refuses; try again.
    }
  };

  const act = async () => {
    if (ctx.signal.aborted) {
      out.cancelled = true;
      if (!aborted) await tryAbort();
    } else if (!out.timedOut && Date.now() >= deadline) {
      out.timedOut = true;
      if (w.onTimeout === 'postcopy') {
        try {
          await dom.startPostCopy();
          out.postCopy = true;
        } catch (e) {
          out.warnings.push(`post-copy could not start (${(e as Error).message}); aborting instead`);
        }
      }
      if (!out.postCopy) await tryAbort();
    } else if (out.timedOut && !out.postCopy && !aborted) {
      await tryAbort();
    }
  };

  // run(): the first query waits a tick, so it does not race libvirt setting up the job.
  let first = !!w.finished;
  while (!done) {
    if (!first && !polling)
      polling = poll().finally(() => {
        polling = undefined;
      });
    first = false;
    const needsAction = ctx.signal.aborted || Date.now() >= deadline;
    if (needsAction && !acting)
      acting = act().finally(() => {
        acting = undefined;
      });
    const pendingAbort = (out.cancelled || (out.timedOut && !out.postCopy)) && !aborted;
    // A cancel cuts the nap short once; after it naps run their length.
    const nap = sleep(
      pendingAbort ? ABORT_RETRY_MS : w.pollIntervalMs,
      ctx.signal.aborted ? undefined : ctx.signal,
    ).catch(() => undefined);
    await Promise.race([nap, jobEnded, ...(w.finished ? [w.finished.catch(() => undefined)] : [])]);
  }
  // Calls still in flight finish on their own; nothing they do counts any more.
  if (ctx.signal.aborted) out.cancelled = true;
  return out;
}
