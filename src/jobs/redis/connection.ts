// Redis connections for the BullMQ backend, as BullMQ's production guide
// asks: the Worker's connection waits through outages (maxRetriesPerRequest:
// null — BullMQ requires it for blocking commands), while the connection that
// submits jobs and answers idempotency look-ups fails fast
// (enableOfflineQueue: false) so a command during an outage is refused and
// redelivered, not held. Reconnect delays come from the shared backoff.
import IORedis, { type RedisOptions } from 'ioredis';
import { Backoff, type BackoffOptions } from '../../reconnect/backoff';
import type { BackendWarning } from '../types';

/** a redis:// URL or ioredis options; default 127.0.0.1:6379 */
export type RedisTarget = string | RedisOptions;

/** BullMQ's own minimum (RedisConnection.minimumVersion). */
const MIN_REDIS = [5, 0, 0];

export function redisClient(target: RedisTarget | undefined, role: 'queue' | 'worker', backoff?: BackoffOptions): IORedis {
  const delays = new Backoff({ initialMs: 500, ...backoff });
  const opts: RedisOptions = {
    // ioredis counts `times` from 1 after every successful connect.
    retryStrategy: (times: number) => { if (times === 1) delays.reset(); return delays.next(); },
    ...(role === 'worker' ? { maxRetriesPerRequest: null } : { enableOfflineQueue: false, maxRetriesPerRequest: 1 }),
    connectionName: `virtbus-jobs-${role}`,
  };
  if (typeof target === 'string') return new IORedis(target, opts);
  return new IORedis({ host: '127.0.0.1', port: 6379, ...target, ...opts });
}

function versionAtLeast(v: string, min: number[]): boolean {
  const parts = v.split('.').map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < min.length; i++) {
    if ((parts[i] ?? 0) !== min[i]) return (parts[i] ?? 0) > min[i];
  }
  return true;
}

function infoField(info: string, field: string): string | undefined {
  const line = info.split(/\r?\n/).find((l) => l.startsWith(`${field}:`));
  return line?.slice(field.length + 1).trim();
}

async function configGet(client: IORedis, name: string): Promise<string | undefined> {
  try {
    const r = (await client.config('GET', name)) as unknown as string[];
    return r[1];
  } catch {
    return undefined; // CONFIG is often renamed or disabled on managed Redis
  }
}

/**
 * Refuses a Redis too old for BullMQ, and warns (never fails) when Redis may
 * lose jobs: an eviction policy other than noeviction silently drops keys
 * under memory pressure — a half-evicted job breaks BullMQ and an evicted
 * idempotency key lets a command run twice — and no persistence loses
 * everything on a Redis restart.
 */
export async function checkRedis(client: IORedis, warn: (w: BackendWarning) => void): Promise<void> {
  const version = infoField(await client.info('server'), 'redis_version') ?? '0';
  if (!versionAtLeast(version, MIN_REDIS)) {
    throw new Error(`Redis ${version} is too old for the job queue: BullMQ needs ${MIN_REDIS.join('.')} or later`);
  }
  const policy = (await configGet(client, 'maxmemory-policy')) ?? infoField(await client.info('memory'), 'maxmemory_policy');
  if (policy === undefined) {
    warn({ code: 'REDIS_CONFIG_UNREADABLE', message: 'cannot read Redis maxmemory-policy (CONFIG and INFO refused); it must be noeviction' });
  } else if (policy !== 'noeviction') {
    warn({
      code: 'REDIS_EVICTION_POLICY',
      message: `Redis maxmemory-policy is '${policy}': under memory pressure Redis may evict jobs and command outcomes ` +
        '(a command could then run twice); set it to noeviction',
    });
  }
  const [aof, save] = [await configGet(client, 'appendonly'), await configGet(client, 'save')];
  if (aof === 'no' && save === '') {
    warn({
      code: 'REDIS_NOT_PERSISTENT',
      message: 'Redis persists nothing (appendonly no, save ""): jobs and command outcomes are lost when Redis restarts',
    });
  }
}
