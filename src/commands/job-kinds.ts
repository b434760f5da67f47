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
