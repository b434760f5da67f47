export type {
  JobBackend,
  JobBackendEvents,
  JobContext,
  JobRecord,
  JobRunner,
  JobState,
  JobSubmission,
  SubmitResult,
  ReconcileReport,
  BackendWarning,
  DurableIdempotency,
  IdempotencyEntry,
} from './types';
export { FINAL_STATES } from './types';
export { JobRunners } from './runners';
export { DEFAULT_CONCURRENCY, type KindLimits } from './limiter';
export { jobInfo, stateOfReply } from './outcome';
export { LocalJobBackend, type LocalJobBackendOptions } from './local/backend';
export { BullJobBackend, type BullJobBackendOptions } from './redis/backend';
export type { RedisTarget } from './redis/connection';
export { createJobBackend, type JobBackendConfig } from './factory';
export { MIGRATE_KIND, migrationRunner } from './runners/migrate';
export {
  defaultTimeoutS,
  DEFAULT_TIMEOUT_PER_GIB_S,
  MIN_TIMEOUT_S,
  type MigrateJobData,
  type MigrateResult,
  type MigrationRunnerOptions,
} from './runners/migration-options';
export type { MigrationProgress, MigrationPhase } from './runners/migration-watch';
export type { MigrationStats } from './runners/migration-stats';
