// What a migration job takes and gives, and its defaults.
//
// Time limit: unless the command gives timeoutS, KubeVirt's rule — 150 s per
// GiB of guest memory (its completionTimeoutPerGiB default), at least 60 s —
// so a 256 MiB guest gets 60 s and a 16 GiB one 40 min. On expiry the job is
// aborted (TIMEOUT), or switched to post-copy with onTimeout: 'postcopy'.
import { Connection } from '../../libvirt';

export interface MigrateJobData {
  /** name or UUID on this (the source) node */
  domain: string;
  /** destination libvirt URI, e.g. qemu+tcp://node2/system (the source daemon connects to it) */
  destinationUri: string;
  /** hypervisor data channel, e.g. tcp://10.0.0.2 */
  migrateUri?: string;
  /** the destination's node id, echoed in the result */
  destinationNode?: string;
  /** default true */
  live?: boolean;
  persistent?: boolean;
  undefineSource?: boolean;
  bandwidthMiBs?: number;
  /** applied once libvirt's job is active */
  maxDowntimeMs?: number;
  autoConverge?: boolean;
  postCopy?: boolean;
  compressed?: boolean;
  /** default: 150 s per GiB of memory, at least 60 s */
  timeoutS?: number;
  /** what the time limit does (default abort; postcopy implies postCopy) */
  onTimeout?: 'abort' | 'postcopy';
}

export interface MigrateResult {
  uuid: string;
  name: string;
  /** destination node id, when the command named one */
  node?: string;
  /** the guest's state on the destination */
  state: string;
  /** null when libvirt kept no statistics of the finished job */
  downtimeMs: number | null;
  totalMs: number;
  bytes: number | null;
  /** decided by reconciliation after an agent restart */
  recovered?: boolean;
}

export interface MigrationRunnerOptions {
  /** this node's libvirt connection (the agent's current one) */
  source: () => Connection;
  /** opens the destination to see where the guest is (default: read-only Connection.open) */
  openDestination?: (uri: string) => Promise<Connection>;
  /** statistics poll interval (ms, default 1000) */
  pollIntervalMs?: number;
  /** default time limit per GiB of guest memory (s, default 150) */
  timeoutPerGiBS?: number;
  /** smallest default time limit (s, default 60) */
  minTimeoutS?: number;
}

export const DEFAULT_TIMEOUT_PER_GIB_S = 150;
export const MIN_TIMEOUT_S = 60;

export function defaultTimeoutS(
  memoryKiB: number,
  o: Pick<MigrationRunnerOptions, 'timeoutPerGiBS' | 'minTimeoutS'> = {},
): number {
  const perGiB = o.timeoutPerGiBS ?? DEFAULT_TIMEOUT_PER_GIB_S;
  return Math.max(o.minTimeoutS ?? MIN_TIMEOUT_S, Math.ceil((perGiB * memoryKiB) / (1024 * 1024)));
}

export const openDestinationReadOnly = (uri: string): Promise<Connection> => Connection.openReadOnly(uri);
