// Collects events from an emitter and waits for the ones a test expects.
import type { EventEmitter } from 'node:events';

export class EventLog<E> {
  readonly all: E[] = [];
  private waiters: Array<{ pred: (e: E) => boolean; resolve: (e: E) => void; from: number }> = [];

  constructor(emitter: EventEmitter, name = 'event') {
    emitter.on(name, (e: E) => {
      this.all.push(e);
      this.waiters = this.waiters.filter((w) => {
        if (this.all.length - 1 >= w.from && w.pred(e)) {
          w.resolve(e);
          return false;
        }
        return true;
      });
    });
  }

  /** Index to pass as `from` to only look at events after now. */
  mark(): number {
    return this.all.length;
  }

  /** Resolves with the first event (at or after `from`) matching pred. */
  waitFor(pred: (e: E) => boolean, what: string, timeoutMs = 30000, from = 0): Promise<E> {
    const seen = this.all.slice(from).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () =>
          reject(
            new Error(
              `timed out after ${timeoutMs} ms waiting for ${what}; saw: ` +
                JSON.stringify(this.all.slice(from).slice(-20)),
            ),
          ),
        timeoutMs,
      );
      this.waiters.push({
        pred,
        from,
        resolve: (e) => {
          clearTimeout(t);
          resolve(e);
        },
      });
    });
  }
}

export async function eventually<T>(
  fn: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 30000,
  everyMs = 200,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
