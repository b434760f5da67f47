// A job kind is one declaration: which commands it serves, how many may run
// at once, how a command's data becomes the job's data (prepare, before the
// job is recorded), and the runner. The dispatcher, the agent and the
// examples recorder loop over the table in ./index.ts and know no kind by name.
import type { CommandName } from '../../contract/commands';
import type { Connection } from '../../libvirt';
import type { JobRunner } from '../types';

/** Another agent as its presence announced it (migrate {to}). */
export interface PeerInfo {
  node: string;
  status: 'online' | 'offline';
  libvirtUri?: string;
  migrateUri?: string;
}

export interface PeerResolver {
  /** what the node last announced (asked of the broker for that node only); undefined: nothing */
  resolve(node: string): Promise<PeerInfo | undefined>;
}

/** What a runner may use. */
export interface JobKindDeps {
  connection: () => Connection;
  /** save/restore files must be inside this directory */
  saveDir: string;
  /** how often progress is sampled (ms, default 1000) */
  pollIntervalMs?: number;
}

/** What prepare may use: the facts of the agent the command came to. */
export interface PrepareContext {
  node: string;
  peers?: PeerResolver;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a table holds kinds of different command types
export interface JobKind<C = any, D = C> {
  /** the job kind: runner and concurrency class (e.g. migrate) */
  readonly name: string;
  /** the commands it serves */
  readonly commands: readonly CommandName[];
  /** when it serves them (default always): vol.create is a job only when it preallocates much */
  readonly when?: (data: C) => boolean;
  /** at most this many at once (default DEFAULT_CONCURRENCY) */
  readonly concurrency?: number;
  /** the command's data -> the job's data, before the job is recorded; throws CommandError to refuse */
  readonly prepare?: (data: C, ctx: PrepareContext) => D | Promise<D>;
  readonly runner: (deps: JobKindDeps) => JobRunner<D>;
}

/** A declaration with its types checked, stored untyped in the table. */
export function jobKind<C, D = C>(k: JobKind<C, D>): JobKind {
  return k as JobKind;
}
