// Long-running commands: they run as jobs (src/jobs) and reply when they end.
import type { CommandName } from '../contract/commands';
import { MIGRATE_KIND } from '../jobs/runners/migrate';

/** Long-running command → the job kind that runs it. */
export const JOB_KINDS: Partial<Record<CommandName, string>> = {
  'domain.migrate': MIGRATE_KIND,
  'domain.save': 'domain.save',
  'domain.restore': 'domain.restore',
  'domain.snapshot.create': 'domain.snapshot.create',
  'domain.snapshot.revert': 'domain.snapshot.revert',
  'domain.snapshot.delete': 'domain.snapshot.delete',
  'vol.clone': 'vol.clone',
};

/** vol.create preallocating at least this much runs as a job (kind vol.create.large). */
export const LARGE_VOLUME_BYTES = 1024 * 1024 * 1024;

/** The job kind a command runs as, if any (vol.create depends on its size). */
export function jobKindOf(name: string, data: unknown): string | undefined {
  if (name === 'vol.create') {
    const a = (data as { allocationBytes?: unknown } | undefined)?.allocationBytes;
    return typeof a === 'number' && a >= LARGE_VOLUME_BYTES ? 'vol.create.large' : undefined;
  }
  return JOB_KINDS[name as CommandName];
}
