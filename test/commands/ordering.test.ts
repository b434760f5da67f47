import { KeyedSerialQueue } from '../../src/commands/ordering';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('same key runs in order, different keys run concurrently, bounded', async () => {
  const q = new KeyedSerialQueue(2);
  const log: string[] = [];
  let peak = 0;
  const job = (name: string, ms: number) => async () => {
    peak = Math.max(peak, q.active);
    log.push(`${name}+`);
    await tick(ms);
    log.push(`${name}-`);
    return name;
  };
  const results = await Promise.all([
    q.run('a', job('a1', 30)),
    q.run('a', job('a2', 1)),
    q.run('b', job('b1', 5)),
    q.run('c', job('c1', 5)),
  ]);
  expect(results).toEqual(['a1', 'a2', 'b1', 'c1']);
  expect(log.indexOf('a1-')).toBeLessThan(log.indexOf('a2+'));
  expect(log.indexOf('b1+')).toBeLessThan(log.indexOf('a1-'));
  expect(peak).toBeLessThanOrEqual(2);
});

test('a failed task does not block its key', async () => {
  const q = new KeyedSerialQueue(4);
  await expect(
    q.run('k', async () => {
      throw new Error('x');
    }),
  ).rejects.toThrow('x');
  await expect(q.run('k', async () => 'next')).resolves.toBe('next');
});
