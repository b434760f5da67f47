// readUntilIdle: a read with no end marker ends once records stop coming,
// but waits longer for the first one (a broker starting a stream read).
import { readUntilIdle } from '../src/timeout';

/** A source that calls `seen` for each record at the given delays (ms after start). */
function source(delays: number[]) {
  const got: number[] = [];
  const timers: NodeJS.Timeout[] = [];
  const start = async (seen: () => void) => {
    for (const [i, d] of delays.entries())
      timers.push(
        setTimeout(() => {
          got.push(i);
          seen();
        }, d),
      );
  };
  return { got, start, stop: () => timers.forEach(clearTimeout) };
}

describe('readUntilIdle', () => {
  test('ends after idleMs without a record, having read the records that came closer together', async () => {
    const s = source([20, 60, 100, 400]);
    try {
      const t0 = Date.now();
      await readUntilIdle({ idleMs: 100 }, s.start);
      expect(s.got).toEqual([0, 1, 2]);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
      expect(Date.now() - t0).toBeLessThan(400);
    } finally {
      s.stop();
    }
  });

  test('a slow first record is not given up on when firstIdleMs allows for it', async () => {
    const late = source([300, 320, 340]);
    try {
      await readUntilIdle({ idleMs: 100, firstIdleMs: 1000 }, late.start);
      expect(late.got).toEqual([0, 1, 2]);
    } finally {
      late.stop();
    }
    // without it the read ends before the first record
    const missed = source([300]);
    try {
      await readUntilIdle({ idleMs: 100 }, missed.start);
      expect(missed.got).toEqual([]);
    } finally {
      missed.stop();
    }
  });

  test('with nothing to read it ends after firstIdleMs, and never after timeoutMs', async () => {
    let t0 = Date.now();
    await readUntilIdle({ idleMs: 50, firstIdleMs: 300 }, async () => undefined);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    t0 = Date.now();
    await readUntilIdle({ idleMs: 50, firstIdleMs: 5000, timeoutMs: 200 }, async () => undefined);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
