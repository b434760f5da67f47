// Per-kind concurrency. BullMQ (open source) limits concurrency per Worker,
// and a Worker takes whatever job is next in its queue — per-group limits are
// a BullMQ Pro feature — so with one queue per node the per-kind limit has to
// be ours. Both backends use this limiter; it is FIFO within a kind.

/** for kinds without their own limit (save, restore, clone, …) */
export const DEFAULT_CONCURRENCY = 4;

export interface KindLimits {
  /** per kind (the agent passes what the kinds declare, src/jobs/kinds) */
  concurrency?: Record<string, number>;
  /** kinds not listed (default 4) */
  defaultConcurrency?: number;
}

interface Waiter {
  resolve: (release: () => void) => void;
}

export class KindLimiter {
  private readonly limits: Record<string, number>;
  private readonly fallback: number;
  private readonly running = new Map<string, number>();
  private readonly waiting = new Map<string, Waiter[]>();

  constructor(o: KindLimits = {}) {
    this.limits = { ...o.concurrency };
    this.fallback = o.defaultConcurrency ?? DEFAULT_CONCURRENCY;
    for (const [k, n] of Object.entries(this.limits).concat([['*', this.fallback]])) {
      if (!Number.isInteger(n) || n < 1)
        throw new RangeError(`concurrency of job kind '${k}' must be a positive integer, got ${n}`);
    }
  }

  limit(kind: string): number {
    return this.limits[kind] ?? this.fallback;
  }
  active(kind: string): number {
    return this.running.get(kind) ?? 0;
  }

  /** Waits for a slot of `kind`; rejects with the signal's reason if it aborts first. */
  acquire(kind: string, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.active(kind) < this.limit(kind) && !this.waiting.get(kind)?.length)
      return Promise.resolve(this.take(kind));
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const q = this.waiting.get(kind) ?? [];
        const i = q.indexOf(w);
        if (i >= 0) q.splice(i, 1);
        reject(signal!.reason);
      };
      const w: Waiter = {
        resolve: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const q = this.waiting.get(kind) ?? [];
      q.push(w);
      this.waiting.set(kind, q);
    });
  }

  /**
   * Takes a slot even when the kind is full: for work that is running in
   * libvirt already (a migration re-attached after a restart) — it uses the
   * resources whether we count it or not, so it counts, but it never waits.
   */
  force(kind: string): () => void {
    return this.take(kind);
  }

  private take(kind: string): () => void {
    this.running.set(kind, this.active(kind) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running.set(kind, this.active(kind) - 1);
      this.wake(kind);
    };
  }

  private wake(kind: string): void {
    const q = this.waiting.get(kind);
    // The slot is counted before the waiter's continuation runs, so a burst
    // of releases cannot admit more than the limit.
    while (q?.length && this.active(kind) < this.limit(kind)) q.shift()!.resolve(this.take(kind));
  }
}
