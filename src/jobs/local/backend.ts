// The embedded job backend: no Redis, one process, its record in a JSON file
// under the agent's state directory. Same semantics as the BullMQ backend:
// a job is on disk before submit() resolves, a started job is never run
// again after a restart (start() hands it to its runner's recover()), and
// finished jobs are kept for a retention period.
import { randomUUID } from 'node:crypto';
import type { ReplyData } from '../../contract/events';
import { TypedEmitter } from '../../typed-emitter';
import { JobExecutor } from '../executor';
import { KindLimiter, type KindLimits } from '../limiter';
import { failure, stateOfReply } from '../outcome';
import { checkSubmission, type JobRunners } from '../runners';
import {
  FINAL_STATES,
  type JobBackend,
  type JobBackendEvents,
  type JobRecord,
  type JobState,
  type JobSubmission,
  type ReconcileReport,
  type SubmitResult,
} from '../types';
import { LocalIdempotency, type LocalIdempotencyOptions } from './idempotency';
import { LocalStore } from './store';

export interface LocalJobBackendOptions extends KindLimits {
  /** directory of the state file (jobs.json); created if missing */
  stateDir: string;
  runners: JobRunners;
  /** this agent run; tells entries of a previous run apart (default: random) */
  bootId?: string;
  /** how long finished jobs are kept (ms, default 24 h) */
  retentionMs?: number;
  /** how long a finished command's idempotency outcome is kept (ms, default 1 h) */
  idempotencyWindowMs?: number;
  /** more of the local record's bounds */
  idempotency?: LocalIdempotencyOptions;
  /** how often expired jobs and outcomes are dropped (ms, default 60 s) */
  sweepIntervalMs?: number;
}

const now = () => new Date().toISOString();
const copy = (r: JobRecord): JobRecord => structuredClone(r);

export class LocalJobBackend extends TypedEmitter<JobBackendEvents> implements JobBackend {
  readonly idempotency: LocalIdempotency;
  private readonly store: LocalStore;
  private readonly executor: JobExecutor;
  private readonly retentionMs: number;
  private running = false;
  private closed = false;
  private sweeper?: NodeJS.Timeout;

  constructor(private readonly o: LocalJobBackendOptions) {
    super();
    this.store = new LocalStore(o.stateDir);
    this.idempotency = new LocalIdempotency(this.store, o.bootId ?? randomUUID(), {
      ...o.idempotency,
      ...(o.idempotencyWindowMs !== undefined && { windowMs: o.idempotencyWindowMs }),
    });
    this.executor = new JobExecutor(o.runners, new KindLimiter(o));
    this.retentionMs = o.retentionMs ?? 24 * 3600_000;
  }

  get statePath(): string {
    return this.store.path;
  }

  async start(): Promise<ReconcileReport> {
    await this.store.ready();
    if (this.running || this.closed) throw new Error('the job backend was started already');
    this.running = true;
    const report: ReconcileReport = {
      recovered: [],
      requeued: [],
      abandonedCommands: this.idempotency.abandonStale((id) => this.store.jobs.has(id)),
    };
    // Everything unfinished in the file belongs to a previous agent run.
    for (const job of this.store.jobs.values()) {
      if (job.state === 'running') {
        job.recovered = true;
        report.recovered.push(job.id);
      } else if (job.state === 'queued') {
        report.requeued.push(job.id);
      }
    }
    await this.store.save();
    for (const id of [...report.recovered, ...report.requeued]) this.launch(this.store.jobs.get(id)!);
    const every = this.o.sweepIntervalMs ?? 60_000;
    this.sweeper = setInterval(() => {
      void this.sweep();
    }, every);
    this.sweeper.unref();
    return report;
  }

  async submit<D>(s: JobSubmission<D>): Promise<SubmitResult> {
    checkSubmission(s, this.o.runners);
    await this.store.ready();
    if (this.closed) throw new Error('the job backend is closed');
    // Look up and insert without an await in between: a concurrent duplicate sees this job.
    const known = this.store.jobs.get(s.id);
    if (known) {
      await this.store.save(); // the first submit's write may still be under way: the caller acks after this
      return { created: false, record: copy(known) };
    }
    const job: JobRecord = {
      id: s.id,
      kind: s.kind,
      command: s.command,
      data: s.data ?? null,
      ...(s.meta && { meta: s.meta }),
      state: 'queued',
      createdAt: now(),
    };
    this.store.jobs.set(job.id, job);
    await this.store.save();
    if (this.running && !this.closed) this.launch(job);
    return { created: true, record: copy(job) };
  }

  async get(id: string): Promise<JobRecord | undefined> {
    await this.store.ready();
    const j = this.store.jobs.get(id);
    return j && copy(j);
  }

  async list(filter: { states?: JobState[] } = {}): Promise<JobRecord[]> {
    await this.store.ready();
    return [...this.store.jobs.values()].filter((j) => !filter.states || filter.states.includes(j.state)).map(copy);
  }

  async cancel(id: string): Promise<JobRecord | undefined> {
    await this.store.ready();
    const job = this.store.jobs.get(id);
    if (!job) return undefined;
    if (FINAL_STATES.includes(job.state)) return copy(job);
    job.cancelRequested = true;
    if (!this.executor.cancel(id) && job.state === 'queued') {
      // Not picked up (the backend is not started): it never ran, so it ends here.
      await this.complete(job, failure('CANCELLED', `job ${id} was cancelled before it started`));
    } else {
      await this.store.save();
    }
    return copy(job);
  }

  async unreplied(): Promise<JobRecord[]> {
    await this.store.ready();
    return [...this.store.jobs.values()].filter((j) => j.reply && !j.repliedAt).map(copy);
  }

  async markReplied(id: string): Promise<void> {
    await this.store.ready();
    const job = this.store.jobs.get(id);
    if (!job || job.repliedAt) return;
    job.repliedAt = now();
    await this.store.save();
  }

  /**
   * Stops recording. Runners still going are not aborted — an agent restart
   * must not cancel migrations — but their outcome is no longer written here:
   * the next agent's start() reconciles them.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.executor.detach();
    if (this.sweeper) clearInterval(this.sweeper);
    await this.store.close();
  }

  /** Drops finished jobs past retention and outcomes past the idempotency window. */
  async sweep(): Promise<void> {
    if (this.closed) return;
    const cutoff = Date.now() - this.retentionMs;
    let changed = this.idempotency.sweep();
    for (const [id, j] of this.store.jobs) {
      if (j.finishedAt && Date.parse(j.finishedAt) < cutoff) {
        this.store.jobs.delete(id);
        changed = true;
      }
    }
    if (changed) await this.store.save().catch((e) => this.fail(e));
  }

  private launch(job: JobRecord): void {
    const started = job.state === 'running';
    void this.executor
      .execute(
        {
          id: job.id,
          kind: job.kind,
          command: job.command,
          data: job.data,
          started,
          cancelRequested: job.cancelRequested,
          lastProgress: job.progress,
        },
        {
          markStarted: async () => {
            if (this.closed) return;
            job.state = 'running';
            job.startedAt = now();
            await this.store.save();
            this.emit('started', job.id);
          },
          progress: async (p) => {
            if (this.closed) return;
            job.progress = p;
            await this.store.save();
            this.emit('progress', job.id, p);
          },
        },
      )
      .then((reply) => this.complete(job, reply))
      .catch((e) => this.fail(e));
  }

  /** Job outcome and its command's idempotency entry, in one write. */
  private async complete(job: JobRecord, reply: ReplyData): Promise<void> {
    if (this.closed) return;
    job.state = stateOfReply(reply);
    job.reply = reply;
    job.finishedAt = now();
    this.idempotency.record(job.id, job.command, reply);
    await this.store.save();
    this.emit('completed', job.id, reply, copy(job));
  }

  private fail(e: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }
}
