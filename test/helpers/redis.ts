// The shared test Redis: what a test leaves there is removed by node id.
import IORedis from 'ioredis';

export const REDIS_URL = process.env.VIRTBUS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Deletes every Redis key of a test node under a key prefix: BullMQ's
 * (<prefix>:virtbus-jobs-<node>:*) and ours (<prefix>:<what>:<node>[:id]).
 * The default prefix is the agent's ("virtbus"); tests that give the job
 * backend their own prefix pass it.
 */
export async function deleteNodeKeys(node: string, prefix = 'virtbus'): Promise<void> {
  if (!/^[A-Za-z0-9_-]+$/.test(node) || !/^[A-Za-z0-9_-]+$/.test(prefix))
    throw new Error(`refusing to delete keys by pattern for '${prefix}' / '${node}'`);
  const c = new IORedis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    // the node id ends at ':' or at the end of the key, so node 'x-1' never takes the keys of node 'x-10'
    for (const pattern of [`${prefix}:*${node}:*`, `${prefix}:*${node}`]) {
      let cursor = '0';
      do {
        const [next, keys] = await c.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await c.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    c.disconnect();
  }
}

/** A connection to the test Redis, failing with what to start when there is none. */
export async function redisClient(): Promise<IORedis> {
  const r = new IORedis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    r.disconnect();
    throw new Error(
      `Redis is not reachable at ${REDIS_URL} (${(e as Error).message}); start it: \`bash scripts/services.sh\``,
    );
  }
  return r;
}
