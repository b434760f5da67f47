// The two job backends, made the same way for tests that must hold for both.
// Real Redis, real files; each kit owns a unique node id / directory and
// removes what it created.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { BullJobBackend, LocalJobBackend, type JobBackend, type JobRunners, type KindLimits } from '../../../src/jobs';

export const REDIS_URL = process.env.VIRTBUS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const REDIS_HINT = 'start Redis: `redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no ' +
  '--dir /var/lib/redis --logfile /var/log/redis/ci.log` (npm test does)';

/** Fails (never skips) when Redis does not answer. */
export async function requireRedis(): Promise<void> {
  const c = new IORedis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.ping();
  } catch (e) {
    throw new Error(`Redis at ${REDIS_URL} is not reachable (${(e as Error).message}); ${REDIS_HINT}`);
  } finally {
    c.disconnect();
  }
}

export interface MakeOptions extends KindLimits {
  runners: JobRunners;
  retentionMs?: number;
  sweepIntervalMs?: number;
}

export interface BackendKit {
  name: 'bullmq' | 'local';
  /** where its storage is: the node id (bullmq) or the state directory (local) */
  node: string;
  stateDir: string;
  /** a new instance over the same storage (a second one = the agent after a restart) */
  make(o: MakeOptions): JobBackend;
  /** closes every instance made and deletes the storage */
  cleanup(): Promise<void>;
}

let seq = 0;
export const uniq = (what: string): string => `${what}-${process.pid}-${Date.now().toString(36)}-${++seq}`;

/** Every Redis key of a test node: BullMQ's (virtbus:virtbus-jobs-<node>:*) and ours (virtbus:<what>:<node>[:id]). */
export async function deleteNodeKeys(node: string): Promise<void> {
  const c = new IORedis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await c.scan(cursor, 'MATCH', `virtbus:*${node}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await c.del(...keys);
    } while (cursor !== '0');
  } finally {
    c.disconnect();
  }
}

export function bullKit(): BackendKit {
  const node = uniq('jobtest');
  const made: JobBackend[] = [];
  return {
    name: 'bullmq',
    node,
    stateDir: '',
    make(o) {
      const b = new BullJobBackend({ node, redis: REDIS_URL, ...o });
      made.push(b);
      return b;
    },
    async cleanup() {
      await Promise.all(made.map((b) => b.close()));
      await deleteNodeKeys(node);
    },
  };
}

export function localKit(): BackendKit {
  const dir = mkdtempSync(join(tmpdir(), 'virtbus-jobs-'));
  const made: JobBackend[] = [];
  return {
    name: 'local',
    node: '',
    stateDir: dir,
    make(o) {
      const b = new LocalJobBackend({ stateDir: dir, ...o });
      made.push(b);
      return b;
    },
    async cleanup() {
      await Promise.all(made.map((b) => b.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const KITS: Array<[string, () => BackendKit]> = [['bullmq', bullKit], ['local', localKit]];
