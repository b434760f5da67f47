// Every job kind, in one table. A new kind is one file beside these and one
// line here; the dispatcher (which commands are jobs), the agent (runners,
// concurrency) and the examples recorder loop over this table.
import type { CommandName } from '../../contract/commands';
import { JobRunners } from '../runners';
import { domainRestore } from './domain-restore';
import { domainSave } from './domain-save';
import type { JobKind, JobKindDeps } from './kind';
import { migrate } from './migrate';
import { snapshotCreate } from './snapshot-create';
import { snapshotDelete } from './snapshot-delete';
import { snapshotRevert } from './snapshot-revert';
import { volClone } from './vol-clone';
import { volCreateLarge } from './vol-create-large';

export const JOB_KINDS: readonly JobKind[] = [
  migrate,
  domainSave,
  domainRestore,
  snapshotCreate,
  snapshotRevert,
  snapshotDelete,
  volClone,
  volCreateLarge,
];

export type { JobKind, JobKindDeps, PeerInfo, PeerResolver, PrepareContext } from './kind';
export { LARGE_VOLUME_BYTES } from './vol-create-large';

/** The kind a command runs as, if it is a job (vol.create depends on its size). */
export function jobKindFor(command: string, data: unknown): JobKind | undefined {
  return JOB_KINDS.find((k) => k.commands.includes(command as CommandName) && (k.when?.(data) ?? true));
}

/** Commands that are always jobs: they have no plain handler. */
export function isJobOnlyCommand(command: string): boolean {
  return JOB_KINDS.some((k) => !k.when && k.commands.includes(command as CommandName));
}

/** Every kind's runner. */
export function jobRunners(deps: JobKindDeps): JobRunners {
  const runners = new JobRunners();
  for (const k of JOB_KINDS) runners.register(k.name, k.runner(deps));
  return runners;
}

/** Per-kind concurrency limits the kinds declare. */
export function kindConcurrency(): Record<string, number> {
  return Object.fromEntries(JOB_KINDS.filter((k) => k.concurrency !== undefined).map((k) => [k.name, k.concurrency!]));
}
