// A BullMQ job seen as a virtbus JobRecord. What BullMQ does not track is
// carried in fields it leaves to us: the submission (and cancel / replied
// flags) in job.data, and in job.progress an envelope whose startedAt marks
// that the runner started — BullMQ's own "active" also covers a job fetched
// and waiting for its kind's slot, which never touched libvirt.
import type { Job } from 'bullmq';
import type { ReplyData } from '../../contract/events';
import { failure, stateOfReply } from '../outcome';
import type { JobRecord, JobState } from '../types';

export interface QueuedJobData {
  id: string;
  kind: string;
  command: string;
  data: unknown;
  meta?: Record<string, unknown>;
  /** random per submit() call: tells the caller whether its add created the job */
  nonce: string;
  cancelRequested?: boolean;
  repliedAt?: string;
}

export interface ProgressEnvelope {
  startedAt: string;
  value?: unknown;
  recovered?: boolean;
}

export function envelopeOf(progress: unknown): ProgressEnvelope | undefined {
  return typeof progress === 'object' &&
    progress !== null &&
    typeof (progress as ProgressEnvelope).startedAt === 'string'
    ? (progress as ProgressEnvelope)
    : undefined;
}

/** BullMQ state (getState() or the list it was read from) → JobRecord. */
export function toRecord(job: Job<QueuedJobData>, bullState: string): JobRecord {
  const d = job.data;
  const env = envelopeOf(job.progress);
  let state: JobState;
  let reply: ReplyData | undefined;
  if (bullState === 'completed') {
    reply = (job.returnvalue as ReplyData | null) ?? failure('INTERNAL', `job ${d.id} completed without a reply`);
    state = stateOfReply(reply);
  } else if (bullState === 'failed') {
    // Only when BullMQ itself gave up on the job (our processor never throws).
    reply = failure('INTERNAL', `job ${d.id} failed in the queue: ${job.failedReason ?? 'unknown reason'}`);
    state = 'failed';
  } else {
    state = bullState === 'active' && env ? 'running' : 'queued';
  }
  return {
    id: d.id,
    kind: d.kind,
    command: d.command,
    data: d.data,
    ...(d.meta && { meta: d.meta }),
    state,
    ...(env?.value !== undefined && { progress: env.value }),
    ...(reply && { reply }),
    createdAt: new Date(job.timestamp).toISOString(),
    ...(env && { startedAt: env.startedAt }),
    ...(job.finishedOn && reply && { finishedAt: new Date(job.finishedOn).toISOString() }),
    ...(d.cancelRequested && { cancelRequested: true }),
    ...(env?.recovered && { recovered: true }),
    ...(d.repliedAt && { repliedAt: d.repliedAt }),
  };
}
