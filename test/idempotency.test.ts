import { AgeBound, IdempotencyRecord } from '../src/idempotency';

test('running, done, expiry and bound', async () => {
  const r = new IdempotencyRecord({ windowMs: 50, maxEntries: 2 });
  expect(r.begin('a', 'x')).toBe(true);
  expect(r.begin('a', 'x')).toBe(false);
  expect(r.get('a')).toMatchObject({ state: 'running' });
  r.finish('a', 'x', { ok: true, result: 1 });
  expect(r.get('a')).toMatchObject({ state: 'done', reply: { ok: true, result: 1 } });
  r.begin('b', 'x');
  r.finish('b', 'x', { ok: true, result: 2 });
  r.begin('c', 'x');
  r.finish('c', 'x', { ok: true, result: 3 });
  expect(r.get('a')).toBeUndefined(); // oldest evicted at the bound
  await new Promise((res) => setTimeout(res, 60));
  expect(r.get('c')).toBeUndefined(); // window passed
});

describe('AgeBound: sweeps in batches, not on every insert', () => {
  type E = { state: 'running' | 'done'; at?: number };
  const fill = (m: Map<string, E>, from: number, n: number, at = Date.now()) => {
    for (let i = from; i < from + n; i++) m.set(`c${i}`, { state: 'done', at });
  };

  test('grows a sixteenth past maxEntries, then sweeps the oldest back to maxEntries', () => {
    const b = new AgeBound(160, 60_000);
    const m = new Map<string, E>();
    fill(m, 0, 1);
    b.afterInsert(m); // the first insert sweeps (none due yet)
    fill(m, 1, 169); // 170 = 160 + 10 (the slack): not yet
    b.afterInsert(m);
    expect(m.size).toBe(170);
    fill(m, 170, 1);
    b.afterInsert(m);
    expect(m.size).toBe(160);
    expect(m.has('c10')).toBe(false);
    expect(m.has('c11')).toBe(true); // the oldest went, in order
    expect(m.has('c170')).toBe(true);
  });

  test('never sweeps a running entry, even over the bound or past the window', () => {
    const b = new AgeBound(2, 10);
    const m = new Map<string, E>([
      ['r', { state: 'running' }],
      ['old', { state: 'done', at: Date.now() - 1000 }],
    ]);
    fill(m, 0, 3);
    // five entries, two allowed: the running one counts but stays; the oldest finished ones go
    expect(b.sweep(m)).toBe(3);
    expect([...m.keys()]).toEqual(['r', 'c2']);
  });

  test('outcomes past the window go at the next timed sweep, at most a second later', () => {
    const b = new AgeBound(100, 50);
    const m = new Map<string, E>();
    fill(m, 0, 5, Date.now() - 100); // past the window already
    b.afterInsert(m); // first insert: sweep due
    expect(m.size).toBe(0);
    fill(m, 0, 5, Date.now() - 100);
    b.afterInsert(m); // under the bound, swept less than a second ago: left for the next sweep
    expect(m.size).toBe(5);
    const later = jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 1001);
    try {
      fill(m, 5, 1, Date.now());
      b.afterInsert(m);
      expect([...m.keys()]).toEqual(['c5']);
    } finally {
      later.mockRestore();
    }
  });
});
