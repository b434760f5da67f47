// libvirt's migration job statistics (virDomainGetJobStats typed parameters)
// in the names virtbus publishes. Units as libvirt reports them: bytes,
// bytes/s, ms; memory_dirty_rate is pages/s.
import type { JobStats } from '../../libvirt';
import type { TypedParams } from '../../libvirt/binding';
import { strings } from '../../libvirt/names';

export interface MigrationStats {
  timeElapsedMs?: number;
  timeRemainingMs?: number;
  /** while running: the downtime libvirt expects at switch-over */
  expectedDowntimeMs?: number;
  setupTimeMs?: number;
  dataTotal?: number;
  dataProcessed?: number;
  dataRemaining?: number;
  memTotal?: number;
  memProcessed?: number;
  memRemaining?: number;
  memBps?: number;
  /** pages dirtied per second */
  memDirtyRate?: number;
  memPageSize?: number;
  /** pre-copy pass over memory, from 1 */
  iteration?: number;
  postcopyRequests?: number;
  diskTotal?: number;
  diskProcessed?: number;
  diskRemaining?: number;
  diskBps?: number;
  /** CPU throttle percentage applied by auto-converge */
  autoConvergeThrottle?: number;
  compressionBytes?: number;
  compressionCacheMisses?: number;
}

const FIELDS: Array<[string, keyof MigrationStats]> = [
  [strings.VIR_DOMAIN_JOB_TIME_ELAPSED, 'timeElapsedMs'],
  [strings.VIR_DOMAIN_JOB_TIME_REMAINING, 'timeRemainingMs'],
  [strings.VIR_DOMAIN_JOB_DOWNTIME, 'expectedDowntimeMs'],
  [strings.VIR_DOMAIN_JOB_SETUP_TIME, 'setupTimeMs'],
  [strings.VIR_DOMAIN_JOB_DATA_TOTAL, 'dataTotal'],
  [strings.VIR_DOMAIN_JOB_DATA_PROCESSED, 'dataProcessed'],
  [strings.VIR_DOMAIN_JOB_DATA_REMAINING, 'dataRemaining'],
  [strings.VIR_DOMAIN_JOB_MEMORY_TOTAL, 'memTotal'],
  [strings.VIR_DOMAIN_JOB_MEMORY_PROCESSED, 'memProcessed'],
  [strings.VIR_DOMAIN_JOB_MEMORY_REMAINING, 'memRemaining'],
  [strings.VIR_DOMAIN_JOB_MEMORY_BPS, 'memBps'],
  [strings.VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE, 'memDirtyRate'],
  [strings.VIR_DOMAIN_JOB_MEMORY_PAGE_SIZE, 'memPageSize'],
  [strings.VIR_DOMAIN_JOB_MEMORY_ITERATION, 'iteration'],
  [strings.VIR_DOMAIN_JOB_MEMORY_POSTCOPY_REQS, 'postcopyRequests'],
  [strings.VIR_DOMAIN_JOB_DISK_TOTAL, 'diskTotal'],
  [strings.VIR_DOMAIN_JOB_DISK_PROCESSED, 'diskProcessed'],
  [strings.VIR_DOMAIN_JOB_DISK_REMAINING, 'diskRemaining'],
  [strings.VIR_DOMAIN_JOB_DISK_BPS, 'diskBps'],
  [strings.VIR_DOMAIN_JOB_AUTO_CONVERGE_THROTTLE, 'autoConvergeThrottle'],
  [strings.VIR_DOMAIN_JOB_COMPRESSION_BYTES, 'compressionBytes'],
  [strings.VIR_DOMAIN_JOB_COMPRESSION_CACHE_MISSES, 'compressionCacheMisses'],
];

/** The fields the driver reported; absent ones stay absent (drivers differ). */
export function migrationStats(params: TypedParams): MigrationStats {
  const out: MigrationStats = {};
  for (const [name, field] of FIELDS) {
    const v = params[name];
    if (typeof v === 'number') out[field] = v;
  }
  return out;
}

export const isJobActive = (s: JobStats | undefined): boolean => s?.type === 'bounded' || s?.type === 'unbounded';

/** The contract's result numbers from a completed job's statistics. */
export function completedNumbers(s: JobStats | undefined): { downtimeMs?: number; totalMs?: number; bytes?: number } {
  if (s?.type !== 'completed') return {};
  const n = (k: string) => (typeof s.params[k] === 'number' ? (s.params[k] as number) : undefined);
  return {
    downtimeMs: n(strings.VIR_DOMAIN_JOB_DOWNTIME),
    totalMs: n(strings.VIR_DOMAIN_JOB_TIME_ELAPSED),
    bytes: n(strings.VIR_DOMAIN_JOB_DATA_PROCESSED) ?? n(strings.VIR_DOMAIN_JOB_MEMORY_PROCESSED),
  };
}
