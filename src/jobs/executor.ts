// Runs one job: waits for its kind's slot, marks it started (durably, before
// the runner touches libvirt — that mark is what later tells "never ran" from
// "may have done something"), calls run() or, for a job a previous agent had
// started, recover(), and turns whatever happens into a contract reply.
// Storage is the backend's business, reached through the hooks.
import type { ReplyData } from '../contract/events';
import { CommandError } from '../errors';
import type { KindLimiter } from './limiter';
import { abandoned, cancellation, failed, failure, succeeded } from './outcome';
import type { JobRunners } from './runners';
import type { JobContext } from './types';

export interface ExecuteInput {
  id: string;
  kind: string;
  command: string;
  data: unknown;
  /** a previous agent marked it started: recover, never run again */
  started: boolean;
  cancelRequested?: boolean;
  lastProgress?: unknown;
}

export interface ExecuteHooks {
  /** durably records that the runner is about to start */
  markStarted(): Promise<void>;
  progress(p: unknown): Promise<void>;
}

interface Active {
  controller: AbortController;
  done: Promise<ReplyData>;
}

export class JobExecutor {
  private readonly active = new Map<string, Active>();
  private detached = false;

  constructor(
    private readonly runners: JobRunners,
    private readonly limiter: KindLimiter,
  ) {}

  /** Ids this process is running or holding for a slot. */
  get activeIds(): string[] {
    return [...this.active.keys()];
  }
  isActive(id: string): boolean {
    return this.active.has(id);
  }

  /**
   * The job's reply. A second call for an id already executing here (a
   * queue redelivering a job it thought stalled) joins the first.
   */
  execute(input: ExecuteInput, hooks: ExecuteHooks): Promise<ReplyData> {
    const running = this.active.get(input.id);
    if (running) return running.done;
    const controller = new AbortController();
    if (input.cancelRequested) controller.abort(cancellation(input.id));
    const done = this.executeOnce(input, hooks, controller.signal).finally(() => this.active.delete(input.id));
    this.active.set(input.id, { controller, done });
    return done;
  }

  /** Aborts the job's signal; false if it is not executing in this process. */
  cancel(id: string): boolean {
    const a = this.active.get(id);
    if (!a) return false;
    if (!a.controller.signal.aborted) a.controller.abort(cancellation(id));
    return true;
  }

  /**
   * After this no runner starts (jobs waiting for a slot stay unstarted, for
   * the next agent); runners already going are left alone.
   */
  detach(): void {
    this.detached = true;
  }

  /** Waits until every job executing here ended, at most ms. */
  async drain(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.active.values()].map((a) => a.done)),
      new Promise((r) => {
        timer = setTimeout(r, ms);
      }),
    ]);
    clearTimeout(timer);
  }

  private async executeOnce(input: ExecuteInput, hooks: ExecuteHooks, signal: AbortSignal): Promise<ReplyData> {
    const { id, kind } = input;
    const runner = this.runners.get(kind);
    if (!runner) return failure('UNSUPPORTED', `no runner for job kind '${kind}' in this agent`);
    if (input.started && !runner.recover) return abandoned(id, input.command);

    let release: () => void;
    try {
      release = input.started ? this.limiter.force(kind) : await this.limiter.acquire(kind, signal);
    } catch {
      return failure('CANCELLED', `job ${id} was cancelled before it started`);
    }
    try {
      if (this.detached) return failure('UNAVAILABLE', `the agent is stopping; job ${id} was not started`);
      if (!input.started) {
        if (signal.aborted) return failure('CANCELLED', `job ${id} was cancelled before it started`);
        await hooks.markStarted();
      }
      const ctx: JobContext = {
        id,
        kind,
        command: input.command,
        data: input.data,
        signal,
        ...(input.started && { lastProgress: input.lastProgress }),
        progress: (p) => hooks.progress(p),
      };
      return succeeded(input.started ? await runner.recover!(ctx) : await runner.run(ctx));
    } catch (e) {
      // After a cancel, a runner that did not explain itself (a CommandError)
      // failed because of the cancel: report it as such.
      if (signal.aborted && !(e instanceof CommandError)) {
        return failure('CANCELLED', `job ${id} was cancelled${e instanceof Error ? `: ${e.message}` : ''}`);
      }
      return failed(e);
    } finally {
      release();
    }
  }
}
