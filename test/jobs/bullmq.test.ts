// What only the BullMQ backend has: the per-node queue in Redis, and jobs
// still waiting in Redis (beyond what the Worker fetched).
import IORedis from 'ioredis';
import type { ReplyData } from '../../src/contract/events';
import { BullJobBackend, JobRunners } from '../../src/jobs';
import { eventually } from '../helpers/events';
import { deleteNodeKeys, REDIS_URL, requireRedis, uniq } from './support/backends';
import { Gate } from './support/gate';

describe('BullMQ job backend', () => {
  const node = uniq('bulltest');
  const gate = new Gate();
  let b: BullJobBackend;

  beforeAll(requireRedis);
  afterAll(async () => {
    gate.releaseAll();
    await b?.close();
    await deleteNodeKeys(node);
  });

  test('one queue per node; a job still waiting in Redis is cancelled when fetched, without running', async () => {
    b = new BullJobBackend({
      node,
      redis: REDIS_URL,
      runners: new JobRunners().register('slow', gate.runner()),
      maxFetched: 1,
    });
    const replies = new Map<string, ReplyData>();
    b.on('completed', (id, r) => replies.set(id, r));
    await b.start();
    expect(b.queueName).toBe(`virtbus-jobs-${node}`);

    const [first, second] = [uniq('first'), uniq('second')];
    await b.submit({ id: first, kind: 'slow', command: 'test.slow', data: {} });
    await gate.whenStarted(first);
    await b.submit({ id: second, kind: 'slow', command: 'test.slow', data: {} });
    const redis = new IORedis(REDIS_URL);
    try {
      // The Worker holds only one job: the second waits in the node's queue in Redis.
      expect(await redis.lrange(`virtbus:virtbus-jobs-${node}:wait`, 0, -1)).toEqual([
        expect.stringContaining('second'),
      ]);
    } finally {
      redis.disconnect();
    }
    expect(await b.cancel(second)).toMatchObject({ state: 'queued', cancelRequested: true });
    gate.release(first);
    await eventually(async () => replies.get(second), 'the waiting job to end');
    expect(replies.get(second)).toMatchObject({ ok: false, error: { code: 'CANCELLED' } });
    expect(gate.started).toEqual([first]);
  });
});
