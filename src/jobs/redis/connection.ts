// Redis connections for the BullMQ backend, as BullMQ's production guide
// asks: the Worker's connection waits through outages (maxRetriesPerRequest:
// null — BullMQ requires it for blocking commands), while the connection that
// submits jobs and answers idempotency look-ups fails fast
// (enableOfflineQueue: false) so a command during an outage is refused and
// redelivered, not held. Reconnect delays come from the shared backoff.
import IORedis, { type RedisOptions } from 'ioredis';
import { Backoff, type BackoffOptions } from '../../reconnect/backoff';
import type { RecoveryEvents } from '../../reconnect/recovering';
import { TypedEmitter } from '../../typed-emitter';
import type { BackendWarning } from '../types';
import {
  credentialsOf,
  describeEndpoint,
  schemeFamily,
  tlsOptions,
  toEndpoint,
  type EndpointInput,
} from '../../endpoint';

/** an endpoint (redis:// or rediss:// URL), or raw ioredis options (e.g. a unix socket path); default 127.0.0.1:6379 */
export type RedisTarget = EndpointInput | RedisOptions;

function isEndpointInput(t: RedisTarget): t is EndpointInput {
  return typeof t === 'string' || Array.isArray(t) || 'urls' in t;
}

/** ioredis options for an endpoint: one URL (Redis has no fail-over list here), credentials, TLS. */
function endpointOptions(input: EndpointInput): RedisOptions {
  const e = toEndpoint(input);
  if (schemeFamily(e) !== 'redis')
    throw new RangeError(`Redis url must be redis:// or rediss://, got ${describeEndpoint(e)}`);
  if (e.urls.length > 1) throw new RangeError(`Redis takes one URL, got ${e.urls.length}: ${describeEndpoint(e)}`);
  const u = new URL(e.urls[0]);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  const tls = tlsOptions(e);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(db !== undefined && Number.isInteger(db) && { db }),
    ...credentialsOf(e.urls[0], e),
    ...(u.protocol === 'rediss:' && { tls: tls ?? {} }),
  };
}

/** BullMQ's own minimum (RedisConnection.minimumVersion). */
const MIN_REDIS = [5, 0, 0];

export function redisClient(
  target: RedisTarget | undefined,
  role: 'queue' | 'worker',
  backoff?: BackoffOptions,
): IORedis {
  const delays = new Backoff({ initialMs: 500, ...backoff });
  const opts: RedisOptions = {
    // ioredis counts `times` from 1 after every successful connect.
    retryStrategy: (times: number) => {
      if (times === 1) delays.reset();
      return delays.next();
    },
    ...(role === 'worker' ? { maxRetriesPerRequest: null } : { enableOfflineQueue: false, maxRetriesPerRequest: 1 }),
    connectionName: `virtbus-jobs-${role}`,
  };
  const base = target === undefined ? {} : isEndpointInput(target) ? endpointOptions(target) : target;
  return new IORedis({ host: '127.0.0.1', port: 6379, ...base, ...opts });
}

/**
 * ioredis's own lifecycle, reported as the recovery core's typed events.
 * ioredis reconnects itself because BullMQ holds the connection object (its
 * Worker blocks on it) and cannot be handed a new one; what the core gives
 * the other clients — backoff with jitter and the same three events — it
 * gets through retryStrategy (above) and this.
 */
export function recoveryEventsOf(client: IORedis): TypedEmitter<RecoveryEvents<IORedis>> {
  const events = new TypedEmitter<RecoveryEvents<IORedis>>();
  let everReady = false;
  let up = false;
  let downSince = Date.now();
  let lastError: Error | undefined;
  let attempt = 0;
  client.on('error', (err: Error) => {
    lastError = err;
  });
  client.on('ready', () => {
    up = true;
    attempt = 0;
    events.emit('connected', client, { reconnect: everReady, downMs: Date.now() - downSince });
    everReady = true;
  });
  client.on('close', () => {
    if (!up) return;
    up = false;
    downSince = Date.now();
    events.emit('disconnected', { reason: lastError?.message ?? 'connection closed' });
    lastError = undefined;
  });
  // Scheduled after every failed connect (and once after a loss, before the first attempt).
  client.on('reconnecting', (delayMs: number) => {
    if (lastError) events.emit('connect-failed', lastError, { attempt: ++attempt, delayMs });
    lastError = undefined;
  });
  return events;
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
  const policy =
    (await configGet(client, 'maxmemory-policy')) ?? infoField(await client.info('memory'), 'maxmemory_policy');
  if (policy === undefined) {
    warn({
      code: 'REDIS_CONFIG_UNREADABLE',
      message: 'cannot read Redis maxmemory-policy (CONFIG and INFO refused); it must be noeviction',
    });
  } else if (policy !== 'noeviction') {
    warn({
      code: 'REDIS_EVICTION_POLICY',
      message:
        `Redis maxmemory-policy is '${policy}': under memory pressure Redis may evict jobs and command outcomes ` +
        '(a command could then run twice); set it to noeviction',
    });
  }
  const [aof, save] = [await configGet(client, 'appendonly'), await configGet(client, 'save')];
  if (aof === 'no' && save === '') {
    warn({
      code: 'REDIS_NOT_PERSISTENT',
      message:
        'Redis persists nothing (appendonly no, save ""): jobs and command outcomes are lost when Redis restarts',
    });
  }
}
