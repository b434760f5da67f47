import { Backoff } from '../../src/reconnect/backoff';

test('delays grow to the ceiling, with jitter inside [base*(1-j), base]', () => {
  const b = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5, random: () => 0 });
  expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([50, 100, 200, 400, 500]);
  const hi = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0.5, random: () => 0.999999 });
  expect(hi.next()).toBe(100);
  b.reset();
  expect(b.next()).toBe(50);
});

test('two agents with real randomness do not retry in lockstep', () => {
  const a = new Backoff(),
    b = new Backoff();
  const da = Array.from({ length: 5 }, () => a.next()),
    db = Array.from({ length: 5 }, () => b.next());
  expect(da).not.toEqual(db);
});

test('the default ceiling is 2 s, still jittered (an agent is back within 5 s of its broker or libvirtd)', () => {
  const lo = new Backoff({ random: () => 0 }),
    hi = new Backoff({ random: () => 0.999999 });
  const low = Array.from({ length: 12 }, () => lo.next()),
    high = Array.from({ length: 12 }, () => hi.next());
  expect(low).toEqual([125, 250, 500, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000]);
  expect(high).toEqual([250, 500, 1000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000]);
});
