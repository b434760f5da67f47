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

describe('reads and writes on one key', () => {
  /** A task that records when it starts and ends and finishes when released. */
  function gated(log: string[], name: string) {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    return {
      release,
      fn: async () => {
        log.push(`${name}+`);
        await gate;
        log.push(`${name}-`);
        return name;
      },
    };
  }

  test('reads run together; a write waits for the reads before it, and reads after it wait for the write', async () => {
    const q = new KeyedSerialQueue(16);
    const log: string[] = [];
    const r1 = gated(log, 'r1');
    const r2 = gated(log, 'r2');
    const w = gated(log, 'w');
    const r3 = gated(log, 'r3');
    const all = Promise.all([
      q.run('dom', r1.fn, 'read'),
      q.run('dom', r2.fn, 'read'),
      q.run('dom', w.fn, 'write'),
      q.run('dom', r3.fn, 'read'),
    ]);
    await tick(5);
    expect(log).toEqual(['r1+', 'r2+']); // both reads at once; the write waits
    r2.release();
    await tick(5);
    expect(log).toEqual(['r1+', 'r2+', 'r2-']);
    r1.release();
    await tick(5);
    expect(log).toEqual(['r1+', 'r2+', 'r2-', 'r1-', 'w+']); // the later read waits for the write
    w.release();
    await tick(5);
    expect(log.slice(-2)).toEqual(['w-', 'r3+']);
    r3.release();
    expect(await all).toEqual(['r1', 'r2', 'w', 'r3']);
    await tick(1);
    expect(q.busyKeys).toBe(0); // the key is forgotten once idle
  });

  test('a read never sees the state from before a write that arrived ahead of it', async () => {
    const q = new KeyedSerialQueue(16);
    let state = 'running';
    const reads: Array<Promise<string>> = [];
    const writes: Array<Promise<void>> = [];
    for (let i = 0; i < 50; i++) {
      const next = i % 2 ? 'running' : 'paused';
      writes.push(
        q.run(
          'dom',
          async () => {
            await tick(Math.random() * 2);
            state = next;
          },
          'write',
        ),
      );
      reads.push(
        q.run(
          'dom',
          async () => {
            await tick(Math.random() * 2);
            return state;
          },
          'read',
        ),
      );
    }
    const seen = await Promise.all(reads);
    await Promise.all(writes);
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => (i % 2 ? 'running' : 'paused')));
  });

  test('a failed write does not hold back the reads after it', async () => {
    const q = new KeyedSerialQueue(4);
    const w = q.run(
      'k',
      async () => {
        throw new Error('refused');
      },
      'write',
    );
    await expect(w).rejects.toThrow('refused');
    await expect(q.run('k', async () => 'read', 'read')).resolves.toBe('read');
  });
});

test('a reserved turn holds its place before it runs; a released one frees it', async () => {
  const q = new KeyedSerialQueue(4);
  const log: string[] = [];
  const write = q.reserve('dom', 'write'); // arrived first, still checking things
  const read = q.run(
    'dom',
    async () => {
      log.push('read');
    },
    'read',
  );
  await tick(5);
  expect(log).toEqual([]); // waits for the write that arrived before it
  await write.run(async () => {
    log.push('write');
  });
  await read;
  expect(log).toEqual(['write', 'read']);

  const refused = q.reserve('dom', 'write'); // e.g. refused by a check: never runs
  const after = q.run('dom', async () => 'after', 'read');
  refused.release();
  refused.release(); // idempotent
  await expect(after).resolves.toBe('after');
  await expect(refused.run(async () => 'late')).rejects.toThrow('used already');
});
