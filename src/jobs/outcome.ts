// A job's final outcome is a contract reply; these helpers build and read it.
import type { ReplyData } from '../contract/events';
import { CommandError, toWireError, type ErrorCode } from '../errors';
import type { JobRecord, JobState } from './types';

export const succeeded = (result: unknown): ReplyData => ({ ok: true, result: result ?? {} });
export const failed = (e: unknown): ReplyData => ({ ok: false, error: toWireError(e) });
export const failure = (code: ErrorCode, message: string): ReplyData => failed(new CommandError(code, message));

/** The final state a reply stands for. */
export function stateOfReply(reply: ReplyData): JobState {
  if (reply.ok) return 'succeeded';
  return reply.error.code === 'CANCELLED' ? 'cancelled' : 'failed';
}

/** The reason a cancelled job's signal carries. */
export function cancellation(id: string): CommandError {
  return new CommandError('CANCELLED', `job ${id} was cancelled`);
}

/** A command that was running when the agent died, and cannot be checked: its outcome is unknown. */
export function abandoned(id: string, command: string): ReplyData {
  return failure(
    'INTERNAL',
    `the agent stopped while command ${id} (${command}) was running; ` +
      "its outcome is unknown and it is not run again — check the object's state, then send a new command id",
  );
}

/**
 * `job.get` / `job.list` result for one job (contract: id, command, state,
 * progress?, result?): `result` is the command's result once it succeeded,
 * `error` the wire error once it failed or was cancelled.
 */
export function jobInfo(r: JobRecord): Record<string, unknown> {
  return {
    id: r.id,
    command: r.command,
    kind: r.kind,
    state: r.state,
    ...(r.progress !== undefined && { progress: r.progress }),
    ...(r.reply?.ok === true && { result: r.reply.result }),
    ...(r.reply?.ok === false && { error: r.reply.error }),
    createdAt: r.createdAt,
    ...(r.startedAt && { startedAt: r.startedAt }),
    ...(r.finishedAt && { finishedAt: r.finishedAt }),
    ...(r.recovered && { recovered: true }),
  };
}
