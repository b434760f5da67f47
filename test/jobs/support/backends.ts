// The two job backends, made the same way for tests that must hold for both.
// Real Redis, real files; each kit owns a unique node id / directory and
// removes what it created.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { BullJobBackend, LocalJobBackend, type JobBackend, type JobRunners, type KindLimits } from '../../../src/jobs';
import { REDIS_URL, deleteNodeKeys } from '../../helpers/redis';

export { REDIS_URL, deleteNodeKeys };

const REDIS_HINT =
  'start Redis: `redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no ' +
  '--dir /var/lib/redis --logfile /var/log/redis/ci.log` (npm test does)';

/** Fails (never skips) when Redis does not answer. */
export async function requireRedis(): Promise<void> {
  const c = new IORedis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
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

/** The storage is deleted even when closing an instance failed; then that failure is reported. */
function throwFirstRejection(results: PromiseSettledResult<unknown>[]): void {
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
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
      const closed = await Promise.allSettled(made.map((b) => b.close()));
      await deleteNodeKeys(node);
      throwFirstRejection(closed);
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
      const closed = await Promise.allSettled(made.map((b) => b.close()));
      rmSync(dir, { recursive: true, force: true });
      throwFirstRejection(closed);
    },
  };
}

export const KITS: Array<[string, () => BackendKit]> = [
  ['bullmq', bullKit],
  ['local', localKit],
];
