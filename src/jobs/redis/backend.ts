// The job backend on BullMQ/Redis: one queue per node (virtbus-jobs-<node>),
// job id derived from the command id so a duplicate command finds the first
// job (BullMQ ignores an add whose jobId exists), progress through
// updateProgress, finished jobs removed after the retention period.
//
// Concurrency: BullMQ limits a Worker, not a kind, and one queue holds all
// kinds, so the Worker fetches up to `maxFetched` jobs and the shared
// KindLimiter decides which run; a fetched job waiting for its kind's slot is
// "active" to BullMQ but `queued` to us (no startedAt in its progress).
//
// Restarts: one agent owns a node's queue, so every job BullMQ shows active
// when the agent starts was left by a dead predecessor. start() moves them
// back to wait before its Worker runs; the processor then sees from the
// progress envelope whether the runner had started, and if so calls
// recover(), never run(). BullMQ's own stalled-job redelivery takes the same
// path, so no path runs a started job twice.
import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import type IORedis from 'ioredis';
import type { ReplyData } from '../../contract/events';
import { CommandError } from '../../errors';
import type { BackoffOptions } from '../../reconnect/backoff';
import { TypedEmitter } from '../../typed-emitter';
import { JobExecutor } from '../executor';
import { KindLimiter, type KindLimits } from '../limiter';
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
import { checkRedis, recoveryEventsOf, redisClient, type RedisTarget } from './connection';
import { NODE_ID_PATTERN, isNodeId } from '../../contract/addresses';
import { RedisIdempotency } from './idempotency';
import { jobIdFor, queueName, unrepliedKey } from './keys';
import { envelopeOf, toRecord, type ProgressEnvelope, type QueuedJobData } from './records';

export interface BullJobBackendOptions extends KindLimits {
  /** node id: names the queue; [A-Za-z0-9_-]{1,64} */
  node: string;
  runners: JobRunners;
  redis?: RedisTarget;
  /** key prefix of BullMQ's and our keys (default "virtbus") */
  prefix?: string;
  /** this agent run; tells entries of a previous run apart (default: random) */
  bootId?: string;
  /** how long finished jobs are kept (ms, default 24 h) */
  retentionMs?: number;
  /** how long a finished command's idempotency outcome is kept (ms, default 1 h) */
  idempotencyWindowMs?: number;
  /** how often finished jobs past retention are cleaned (ms, default 60 s) */
  sweepIntervalMs?: number;
  /** jobs the Worker holds at once, running or waiting for their kind's slot (default 32) */
  maxFetched?: number;
  /** BullMQ lock of an active job (ms, default 30000): how long a dead worker's job looks alive to BullMQ */
  lockDurationMs?: number;
  reconnect?: BackoffOptions;
}

type BullState = 'active' | 'wait' | 'prioritized' | 'delayed' | 'completed' | 'failed';
const LISTED: BullState[] = ['active', 'wait', 'prioritized', 'delayed', 'completed', 'failed'];
const now = () => new Date().toISOString();

function storeDown(e: unknown): CommandError {
  if (e instanceof CommandError) return e;
  return new CommandError(
    'UNAVAILABLE',
    `the job queue (Redis) is unavailable: ${e instanceof Error ? e.message : String(e)}`,
  );
}

export class BullJobBackend extends TypedEmitter<JobBackendEvents> implements JobBackend {
  readonly queueName: string;
  readonly idempotency: RedisIdempotency;
  readonly prefix: string;
  private readonly client: IORedis;
  private readonly queue: Queue<QueuedJobData, ReplyData>;
  private readonly executor: JobExecutor;
  private workerClient?: IORedis;
  private worker?: Worker<QueuedJobData, ReplyData>;
  private sweeper?: NodeJS.Timeout;
  private readonly retentionMs: number;
  private started = false;
  private closing?: Promise<void>;

  constructor(private readonly o: BullJobBackendOptions) {
    super();
    if (!isNodeId(o.node)) throw new Error(`node id '${o.node}' is not ${NODE_ID_PATTERN}`);
    this.prefix = o.prefix ?? 'virtbus';
    this.queueName = queueName(o.node);
    this.retentionMs = o.retentionMs ?? 24 * 3600_000;
    this.client = redisClient(o.redis, 'queue', o.reconnect);
    this.client.on('error', (e) => this.fail(e));
    this.report('queue', this.client);
    // Our own version and eviction-policy check replaces BullMQ's (which writes to the console).
    this.queue = new Queue<QueuedJobData, ReplyData>(this.queueName, {
      connection: this.client,
      prefix: this.prefix,
      skipVersionCheck: true,
    });
    this.queue.on('error', (e) => this.fail(e));
    this.idempotency = new RedisIdempotency(this.client, {
      prefix: this.prefix,
      node: o.node,
      bootId: o.bootId ?? randomUUID(),
      windowMs: o.idempotencyWindowMs,
    });
    this.executor = new JobExecutor(o.runners, new KindLimiter(o));
  }

  async start(): Promise<ReconcileReport> {
    if (this.started || this.closing) throw new Error('the job backend was started already');
    this.started = true;
    await this.queue.waitUntilReady();
    await checkRedis(this.client, (w) => this.emit('warning', w));
    const report = await this.reconcile();
    this.workerClient = redisClient(this.o.redis, 'worker', this.o.reconnect);
    this.workerClient.on('error', (e) => this.fail(e));
    this.report('worker', this.workerClient);
    this.worker = new Worker<QueuedJobData, ReplyData>(this.queueName, (job) => this.process(job), {
      connection: this.workerClient,
      prefix: this.prefix,
      skipVersionCheck: true,
      concurrency: this.o.maxFetched ?? 32,
      lockDuration: this.o.lockDurationMs ?? 30_000,
      // A redelivered started job is recovered, never re-run, so redelivery is harmless;
      // failing it instead would drop a migration that may still succeed.
      maxStalledCount: 10,
    });
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('completed', (job, reply) => {
      this.emit('completed', job.data.id, reply, toRecord(job, 'completed'));
    });
    this.worker.on('failed', (job) => {
      if (job) {
        const r = toRecord(job, 'failed');
        this.emit('completed', r.id, r.reply!, r);
      }
    });
    await this.worker.waitUntilReady();
    this.sweeper = setInterval(() => {
      void this.sweep();
    }, this.o.sweepIntervalMs ?? 60_000);
    this.sweeper.unref();
    return report;
  }

  private report(role: string, client: IORedis): void {
    const events = recoveryEventsOf(client);
    events.on('connected', (_c, info) => this.emit('store-connected', role, info));
    events.on('disconnected', (info) => this.emit('store-disconnected', role, info));
  }

  /** Hands what a dead predecessor left active back to the queue (see the file comment). */
  private async reconcile(): Promise<ReconcileReport> {
    const report: ReconcileReport = { recovered: [], requeued: [], abandonedCommands: [] };
    for (const job of await this.queue.getJobs(['active'], 0, -1)) {
      (envelopeOf(job.progress) ? report.recovered : report.requeued).push(job.data.id);
      // Token '0': the lock belongs to the dead worker; BullMQ skips the lock check for it.
      await job.moveToWait('0');
    }
    report.abandonedCommands = await this.idempotency.abandonStale(
      async (id) => !!(await this.queue.getJob(jobIdFor(id))),
    );
    return report;
  }

  private async process(job: Job<QueuedJobData, ReplyData>): Promise<ReplyData> {
    const d = job.data;
    let env = envelopeOf(job.progress);
    // Started, and not by this process (BullMQ may redeliver a job of ours whose lock it thought lost: that joins below).
    if (env && !this.executor.isActive(d.id)) {
      // The agent died after storing the outcome but before BullMQ completed the job.
      const known = await this.idempotency.get(d.id);
      if (known?.state === 'done') return this.settle(job, known.reply);
      env = { ...env, recovered: true };
      await job.updateProgress(env);
    }
    const reply = this.executor.execute(
      {
        id: d.id,
        kind: d.kind,
        command: d.command,
        data: d.data,
        started: !!env,
        cancelRequested: d.cancelRequested,
        lastProgress: env?.value,
      },
      {
        markStarted: async () => {
          if (this.closing) return;
          env = { startedAt: now() };
          await job.updateProgress(env);
          this.emit('started', d.id);
        },
        progress: async (p) => {
          if (this.closing) return;
          env = { ...(env as ProgressEnvelope), value: p };
          await job.updateProgress(env);
          this.emit('progress', d.id, p);
        },
      },
    );
    // cancel() flags the data, then looks for the job here; the job is
    // registered with the executor by now, so re-reading the flag closes the
    // gap between BullMQ fetching the job and the registration.
    if (!d.cancelRequested) {
      const fresh = await this.queue.getJob(job.id!).catch(() => undefined);
      if (fresh?.data.cancelRequested) this.executor.cancel(d.id);
    }
    return this.settle(job, await reply);
  }

  private async settle(job: Job<QueuedJobData, ReplyData>, reply: ReplyData): Promise<ReplyData> {
    // Detached by close(): the outcome is for the next agent to reconcile, and
    // this Worker's connection is gone; leave the job active.
    if (this.closing) return new Promise<never>(() => undefined);
    const d = job.data;
    try {
      await this.idempotency.finish(d.id, d.command, reply);
      await this.client.sadd(unrepliedKey(this.prefix, this.o.node), d.id);
    } catch (e) {
      this.fail(e); // the reply still lands in the job's return value
    }
    return reply;
  }

  async submit<D>(s: JobSubmission<D>): Promise<SubmitResult> {
    checkSubmission(s, this.o.runners);
    if (this.closing) throw new Error('the job backend is closed');
    const nonce = randomUUID();
    const jobId = jobIdFor(s.id);
    const age = Math.max(1, Math.ceil(this.retentionMs / 1000));
    try {
      await this.queue.add(
        s.kind,
        {
          id: s.id,
          kind: s.kind,
          command: s.command,
          data: s.data ?? null,
          ...(s.meta && { meta: s.meta }),
          nonce,
        },
        { jobId, attempts: 1, removeOnComplete: { age }, removeOnFail: { age } },
      );
      // The add is atomic in Redis and keeps an existing job: whose nonce is
      // stored says whether this call created it.
      const job = await this.queue.getJob(jobId);
      if (!job) throw new CommandError('INTERNAL', `job ${s.id} vanished right after it was added`);
      return { created: job.data.nonce === nonce, record: toRecord(job, await job.getState()) };
    } catch (e) {
      throw storeDown(e);
    }
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const job = await this.queue.getJob(jobIdFor(id));
    return job ? toRecord(job, await job.getState()) : undefined;
  }

  async list(filter: { states?: JobState[] } = {}): Promise<JobRecord[]> {
    const lists = await Promise.all(
      LISTED.map(async (t) => (await this.queue.getJobs([t], 0, -1)).map((j) => toRecord(j, t))),
    );
    return lists.flat().filter((r) => !filter.states || filter.states.includes(r.state));
  }

  async cancel(id: string): Promise<JobRecord | undefined> {
    const job = await this.queue.getJob(jobIdFor(id));
    if (!job) return undefined;
    const state = await job.getState();
    let record = toRecord(job, state);
    if (FINAL_STATES.includes(record.state)) return record;
    // The flag reaches a job still waiting in Redis when a Worker takes it;
    // a job this process holds is aborted now.
    await job.updateData({ ...job.data, cancelRequested: true });
    this.executor.cancel(id);
    record = { ...record, cancelRequested: true };
    return record;
  }

  async unreplied(): Promise<JobRecord[]> {
    const key = unrepliedKey(this.prefix, this.o.node);
    const out: JobRecord[] = [];
    for (const id of await this.client.smembers(key)) {
      const r = await this.get(id);
      if (!r) await this.client.srem(key, id);
      else if (FINAL_STATES.includes(r.state) && !r.repliedAt) out.push(r);
    }
    return out;
  }

  async markReplied(id: string): Promise<void> {
    await this.client.srem(unrepliedKey(this.prefix, this.o.node), id);
    const job = await this.queue.getJob(jobIdFor(id));
    if (job && !job.data.repliedAt) await job.updateData({ ...job.data, repliedAt: now() });
  }

  /**
   * BullMQ removes finished jobs past their age only when another job
   * finishes; this sweep makes retention hold on a quiet node too.
   */
  async sweep(): Promise<void> {
    if (this.closing) return;
    try {
      await this.queue.clean(this.retentionMs, 1000, 'completed');
      await this.queue.clean(this.retentionMs, 1000, 'failed');
    } catch (e) {
      this.fail(e);
    }
  }

  /**
   * Stops taking jobs. Runners still going are not aborted (an agent
   * restart must not cancel migrations); their jobs stay active in Redis and
   * the next agent's start() reconciles them. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.sweeper) clearInterval(this.sweeper);
      this.executor.detach();
      if (this.worker && this.workerClient) {
        // BullMQ 5's stalled-job checker arms a 30 s timer after its check
        // returns, and close() only disarms one already armed; a close during
        // that first check would keep the process alive 30 s. A round trip on
        // the same connection plus a turn of the event loop lets it arm first.
        await this.workerClient.ping().catch(() => undefined);
        await new Promise((r) => setImmediate(r));
      }
      await this.worker?.close(true).catch((e) => this.fail(e));
      await this.queue.close().catch((e) => this.fail(e));
      await Promise.all([this.workerClient, this.client].map((c) => c?.quit().catch(() => c.disconnect())));
    })();
    return this.closing;
  }

  private fail(e: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }
}
