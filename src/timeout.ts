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
 */
export async function readUntilIdle(
  o: { idleMs?: number; timeoutMs?: number },
  start: (seen: () => void) => Promise<void>,
): Promise<void> {
  const idleMs = o.idleMs ?? 250;
  const end = Date.now() + (o.timeoutMs ?? 10_000);
  let last = Date.now();
  await start(() => {
    last = Date.now();
  });
  last = Math.max(last, Date.now());
  while (Date.now() - last < idleMs && Date.now() < end) {
    await new Promise((r) => setTimeout(r, Math.min(25, idleMs)));
  }
}
