// Exponential backoff with jitter, shared by every reconnecting client
// (libvirt, AMQP, MQTT, presence through recovering.ts; Redis through ioredis's retryStrategy). Jitter matters for a fleet: agents that lost
// the same broker at the same moment must not come back in lockstep.
//
// The ceiling is low on purpose (2 s): an agent must be back within 5 s of
// its broker or libvirtd (test/system/faults.test.ts), and a 30 s ceiling
// meant an outage of a few seconds could cost up to half a minute more.
// With equal jitter a capped delay is still spread over 1–2 s, and a refused
// connect to a host that is down costs the broker nothing.

export interface BackoffOptions {
  /** first delay, ms (default 250) */
  initialMs?: number;
  /** ceiling, ms (default 2000) */
  maxMs?: number;
  /** growth per attempt (default 2) */
  factor?: number;
  /** 0..1: share of each delay that is random (default 0.5, "equal jitter") */
  jitter?: number;
  /** injectable for tests */
  random?: () => number;
}

/** The defaults every reconnect loop uses unless told otherwise. */
export const BACKOFF_DEFAULTS = { initialMs: 250, maxMs: 2000, factor: 2, jitter: 0.5 } as const;

export class Backoff {
  private attempt = 0;
  private readonly o: Required<BackoffOptions>;

  constructor(o: BackoffOptions = {}) {
    this.o = { ...BACKOFF_DEFAULTS, random: Math.random, ...o };
    if (this.o.jitter < 0 || this.o.jitter > 1) throw new RangeError('jitter must be within 0..1');
  }

  /** The delay before the next attempt; grows until maxMs. */
  next(): number {
    const base = Math.min(this.o.maxMs, this.o.initialMs * this.o.factor ** this.attempt);
    this.attempt++;
    const fixed = base * (1 - this.o.jitter);
    return Math.round(fixed + this.o.random() * base * this.o.jitter);
  }

  get attempts(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** Resolves after ms, or rejects with the signal's reason when it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
