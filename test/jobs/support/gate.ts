// A job runner the test drives: each job runs until the test releases it
// (or its signal aborts), and the gate counts how many ran at once.
import type { JobContext, JobRunner } from '../../../src/jobs';

export class Gate {
  readonly started: string[] = [];
  running = 0;
  maxRunning = 0;
  private readonly releases = new Map<string, (v: unknown) => void>();
  private readonly waiting = new Map<string, Array<() => void>>();

  runner(o: { recover?: boolean } = {}): JobRunner {
    const run = async (ctx: JobContext) => {
      this.started.push(ctx.id);
      this.running++;
      this.maxRunning = Math.max(this.maxRunning, this.running);
      for (const w of this.waiting.get(ctx.id) ?? []) w();
      try {
        return await new Promise((resolve, reject) => {
          this.releases.set(ctx.id, resolve);
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
        });
      } finally {
        this.running--;
      }
    };
    return {
      run,
      ...(o.recover && { recover: async (ctx: JobContext) => ({ recovered: ctx.id, last: ctx.lastProgress }) }),
    };
  }

  /** Resolves once job id's runner started. */
  whenStarted(id: string, timeoutMs = 10000): Promise<void> {
    if (this.started.includes(id)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`job ${id} did not start within ${timeoutMs} ms (started: ${this.started.join(', ')})`)),
        timeoutMs,
      );
      const list = this.waiting.get(id) ?? [];
      list.push(() => {
        clearTimeout(t);
        resolve();
      });
      this.waiting.set(id, list);
    });
  }

  release(id: string, result: unknown = { id }): void {
    const r = this.releases.get(id);
    if (!r) throw new Error(`job ${id} is not running`);
    this.releases.delete(id);
    r(result);
  }

  releaseAll(): void {
    for (const id of [...this.releases.keys()]) this.release(id);
  }
}
