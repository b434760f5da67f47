import { IdempotencyRecord } from '../src/idempotency';

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
