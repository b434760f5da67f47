// The local backend's whole record — jobs and the idempotency entries of
// every mutating command — in one JSON file, so a job's outcome and its
// command's idempotency entry are written by the same atomic rename.
import { join } from 'node:path';
import type { IdempotencyEntry } from '../../idempotency';
import type { JobRecord } from '../types';
import { AtomicJsonFile } from './atomic-file';

/** an idempotency entry plus the agent run that wrote it (to spot entries a dead agent left running) */
export type StoredCommand = IdempotencyEntry & { boot: string };

interface StateDocument {
  version: 1;
  jobs: JobRecord[];
  commands: Array<[string, StoredCommand]>;
}

export const STATE_FILE = 'jobs.json';

export class LocalStore {
  // Maps, not objects: ids are chosen by callers ("__proto__" is a valid command id).
  readonly jobs = new Map<string, JobRecord>();
  readonly commands = new Map<string, StoredCommand>();
  private readonly file: AtomicJsonFile<StateDocument>;
  private loading?: Promise<void>;

  constructor(readonly stateDir: string) {
    this.file = new AtomicJsonFile(join(stateDir, STATE_FILE), () => ({
      version: 1,
      jobs: [...this.jobs.values()],
      commands: [...this.commands.entries()],
    }));
  }

  get path(): string {
    return this.file.path;
  }

  /** Loads the file once; every operation awaits this first. */
  ready(): Promise<void> {
    this.loading ??= this.file.load().then((doc) => {
      if (!doc) return;
      if (doc.version !== 1)
        throw new Error(
          `job state file ${this.file.path} has version ${String(doc.version)}; this agent reads version 1`,
        );
      for (const j of doc.jobs) this.jobs.set(j.id, j);
      for (const [id, c] of doc.commands) this.commands.set(id, c);
    });
    return this.loading;
  }

  save(): Promise<void> {
    return this.file.save();
  }
  flush(): Promise<void> {
    return this.file.flush();
  }
}
