// kind → runner. The backends look runners up here; the agent registers one
// per long-running command (migrate here; save/restore/snapshot/clone later).
import { CommandError } from '../errors';
import type { JobContext, JobRunner } from './types';

export class JobRunners {
  private readonly table = new Map<string, JobRunner>();

  /** A plain function is a runner without recover(). */
  register<D, R>(kind: string, runner: JobRunner<D, R> | ((ctx: JobContext<D>) => Promise<R>)): this {
    if (this.table.has(kind)) throw new Error(`a runner for job kind '${kind}' is registered already`);
    this.table.set(kind, typeof runner === 'function' ? { run: runner } : runner);
    return this;
  }

  get(kind: string): JobRunner | undefined {
    return this.table.get(kind);
  }

  /** The runner, or the error a submission of an unknown kind gets. */
  require(kind: string): JobRunner {
    const r = this.table.get(kind);
    if (!r) throw new CommandError('UNSUPPORTED', `no runner for job kind '${kind}' in this agent`);
    return r;
  }

  kinds(): string[] {
    return [...this.table.keys()];
  }
}

/** What both backends refuse before recording anything. */
export function checkSubmission(s: { id: unknown; kind: unknown; command: unknown }, runners: JobRunners): void {
  if (typeof s.id !== 'string' || s.id.length === 0 || s.id.length > 128) {
    throw new CommandError('BAD_REQUEST', 'a job id (the command id) is a string of 1 to 128 characters');
  }
  if (typeof s.command !== 'string' || !s.command)
    throw new CommandError('BAD_REQUEST', `job ${s.id} has no command name`);
  runners.require(String(s.kind));
}
