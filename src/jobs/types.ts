// The job layer's vocabulary: what a long-running command (migrate, save,
// restore, clone, …) looks like once accepted, how a runner sees it, and the
// interface both storage backends (BullMQ on Redis, a local JSON file) offer.
import type { IdempotencyEntry, IdempotencyStore } from '../idempotency';
import type { ReplyData } from '../contract/events';
import type { TypedEmitter } from '../typed-emitter';

/** queued: accepted, waiting for its kind's slot; running: its runner started; the rest are final. */
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export const FINAL_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];

export interface JobSubmission<D = unknown> {
  /** the command id: job id, correlation id and idempotency key in one */
  id: string;
  /** which runner, and which concurrency limit (e.g. "migrate") */
  kind: string;
  /** the contract command name, e.g. domain.migrate */
  command: string;
  data: D;
  /** opaque to the backend, kept with the job (e.g. how to address the reply after a restart) */
  meta?: Record<string, unknown>;
}

export interface JobRecord {
  id: string;
  kind: string;
  command: string;
  data: unknown;
  meta?: Record<string, unknown>;
  state: JobState;
  /** the runner's last progress report */
  progress?: unknown;
  /** the final contract reply, once the job ended */
  reply?: ReplyData;
  /** RFC 3339 */
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** job.cancel was asked for */
  cancelRequested?: boolean;
  /** the outcome was decided by reconciliation after an agent restart, not by the runner that started it */
  recovered?: boolean;
  /** when the agent confirmed the reply was delivered (see JobBackend.markReplied) */
  repliedAt?: string;
}

export interface SubmitResult {
  /** false: a job with this id existed already (a duplicate command); `record` is that job */
  created: boolean;
  record: JobRecord;
}

export interface JobContext<D = unknown> {
  readonly id: string;
  readonly kind: string;
  readonly command: string;
  readonly data: D;
  /** aborted by job.cancel (the reason is a CommandError CANCELLED) */
  readonly signal: AbortSignal;
  /** the progress recorded before an agent restart (recover only) */
  readonly lastProgress?: unknown;
  /** records progress durably and publishes it; resolves once stored */
  progress(p: unknown): Promise<void>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a table holds runners of different data types
export interface JobRunner<D = any, R = unknown> {
  /** does the work; the resolved value becomes `result` of the reply, a throw the error */
  run(ctx: JobContext<D>): Promise<R>;
  /**
   * Called instead of run() for a job whose runner had started when the agent
   * died: decide the outcome from the world (re-attach to work still running),
   * never do the work again. Without it such a job fails with a clear message.
   */
  recover?(ctx: JobContext<D>): Promise<R>;
}

export interface ReconcileReport {
  /** started before the restart: handed to their runner's recover() (or failed without one) */
  recovered: string[];
  /** accepted but never started before the restart: run normally */
  requeued: string[];
  /** idempotency entries of non-job commands that were running when the agent died, now failed */
  abandonedCommands: string[];
}

export interface BackendWarning {
  code: 'REDIS_EVICTION_POLICY' | 'REDIS_CONFIG_UNREADABLE' | 'REDIS_NOT_PERSISTENT';
  message: string;
}

export type JobBackendEvents = {
  /** a runner started (a job moved from queued to running) */
  started: (id: string) => void;
  progress: (id: string, progress: unknown) => void;
  /** the outcome is stored; publish the reply now and call markReplied(id) once the broker confirmed it */
  completed: (id: string, reply: ReplyData, record: JobRecord) => void;
  /** a configuration problem worth an operator's attention (never fatal) */
  warning: (w: BackendWarning) => void;
  /** a background failure (storage write, Redis); only emitted when someone listens */
  error: (err: unknown) => void;
  /** a store connection (Redis: 'queue' or 'worker') came back or went: the recovery core's events */
  'store-connected': (role: string, info: { reconnect: boolean; downMs: number }) => void;
  'store-disconnected': (role: string, info: { reason: string }) => void;
};

/** The durable store of mutating commands' outcomes: the one IdempotencyStore interface, kept across agent restarts. */
export type DurableIdempotency = IdempotencyStore;

export interface JobBackend extends TypedEmitter<JobBackendEvents> {
  readonly idempotency: DurableIdempotency;
  /** reconciles what a previous agent left running, then starts running jobs */
  start(): Promise<ReconcileReport>;
  /** resolves once the job is durably recorded (the broker delivery may be acked then) */
  submit<D>(s: JobSubmission<D>): Promise<SubmitResult>;
  get(id: string): Promise<JobRecord | undefined>;
  list(filter?: { states?: JobState[] }): Promise<JobRecord[]>;
  /** asks a job to stop; the record as it is now (undefined: no such job) */
  cancel(id: string): Promise<JobRecord | undefined>;
  /** finished jobs whose reply was not confirmed delivered (call after a restart) */
  unreplied(): Promise<JobRecord[]>;
  markReplied(id: string): Promise<void>;
  /** stops taking jobs; runners still going are left to the next agent's reconciliation */
  close(): Promise<void>;
}

export type { IdempotencyEntry };
