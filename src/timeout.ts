// One time limit for any promise: rejects with "<what> timed out after <ms> ms"
// unless p settles first; the timer never outlives the race.

export class TimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what} timed out after ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/**
 * Starts a read with no end marker (a stream from a point in time, retained
 * messages after a SUBACK): start gets `seen`, to call on every record; resolves
 * once nothing came for idleMs (default 250), or at timeoutMs (default 10000).
 * Before the first record it waits firstIdleMs (default idleMs): a broker can
 * take longer to find where a stream read starts than it leaves between
 * records once they flow, above all when it is busy.
 */
export async function readUntilIdle(
  o: { idleMs?: number; firstIdleMs?: number; timeoutMs?: number },
  start: (seen: () => void) => Promise<void>,
): Promise<void> {
  const idleMs = o.idleMs ?? 250;
  const firstIdleMs = Math.max(o.firstIdleMs ?? idleMs, idleMs);
  const end = Date.now() + (o.timeoutMs ?? 10_000);
  let last = Date.now();
  let any = false;
  await start(() => {
    last = Date.now();
    any = true;
  });
  last = Math.max(last, Date.now());
  while (Date.now() - last < (any ? idleMs : firstIdleMs) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, Math.min(25, idleMs)));
  }
}
