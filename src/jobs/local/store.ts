// The local backend's whole record — jobs and the idempotency entries of
// every mutating command — as a snapshot (jobs.json, replaced atomically)
// plus a journal of changes since (jobs.journal, JSON lines, group commit).
// A save appends one line holding every change since the last one: the
// commands that changed and, when any job changed, all jobs — so a job's
// outcome and its command's idempotency entry are durable together, and a
// command costs one small append instead of rewriting the whole record. When
// the journal has grown past the record's size, the next save writes a new
// snapshot and empties the journal.
import { join } from 'node:path';
import type { IdempotencyEntry } from '../../idempotency';
import type { JobRecord } from '../types';
import { AtomicJsonFile } from './atomic-file';
import { Journal } from './journal';

/** an idempotency entry plus the agent run that wrote it (to spot entries a dead agent left running) */
export type StoredCommand = IdempotencyEntry & { boot: string };

interface StateDocument {
  version: 1;
  jobs: JobRecord[];
  commands: Array<[string, StoredCommand]>;
}

/** One journal line: the commands set (entry) or deleted (null), and all jobs if any changed. */
interface JournalRecord {
  c: Array<[string, StoredCommand | null]>;
  jobs?: JobRecord[];
}

export const STATE_FILE = 'jobs.json';
export const JOURNAL_FILE = 'jobs.journal';

/** A Map that remembers which keys were set or deleted since the last take(). */
class TrackedMap<K, V> extends Map<K, V> {
  private changed = new Set<K>();
  override set(k: K, v: V): this {
    this.changed?.add(k); // undefined while Map's constructor runs
    return super.set(k, v);
  }
  override delete(k: K): boolean {
    const had = super.delete(k);
    if (had) this.changed.add(k);
    return had;
  }
  override clear(): void {
    for (const k of this.keys()) this.changed.add(k);
    super.clear();
  }
  /** the keys changed since the last call, and forgets them */
  take(): K[] {
    const keys = [...this.changed];
    this.changed.clear();
    return keys;
  }
}

export class LocalStore {
  // Maps, not objects: ids are chosen by callers ("__proto__" is a valid command id).
  readonly jobs = new Map<string, JobRecord>();
  readonly commands = new TrackedMap<string, StoredCommand>();
  private readonly snapshot: AtomicJsonFile<StateDocument>;
  private readonly journal: Journal;
  private loading?: Promise<void>;
  /** the jobs as last written (a job is changed in place, so they are compared as text) */
  private jobsWritten = '[]';
  private queued?: Promise<void>;
  private current?: Promise<void>;

  constructor(readonly stateDir: string) {
    this.snapshot = new AtomicJsonFile(join(stateDir, STATE_FILE));
    this.journal = new Journal(join(stateDir, JOURNAL_FILE));
  }

  get path(): string {
    return this.snapshot.path;
  }

  /** Loads the snapshot and replays the journal, once; every operation awaits this first. */
  ready(): Promise<void> {
    this.loading ??= this.load();
    return this.loading;
  }

  /** Resolves once every change made before this call is on disk. */
  save(): Promise<void> {
    if (this.queued) return this.queued;
    const before = this.current ?? Promise.resolve();
    const next: Promise<void> = before
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.write();
      });
    this.queued = next;
    this.current = next;
    void next
      .catch(() => undefined)
      .finally(() => {
        if (this.current === next) this.current = undefined;
      });
    return next;
  }

  /** Resolves when no write is pending. */
  async flush(): Promise<void> {
    await this.current?.catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.flush();
    await this.journal.close();
  }

  private async load(): Promise<void> {
    const doc = await this.snapshot.load();
    if (doc) {
      if (doc.version !== 1)
        throw new Error(
          `job state file ${this.snapshot.path} has version ${String(doc.version)}; this agent reads version 1`,
        );
      for (const j of doc.jobs) this.jobs.set(j.id, j);
      for (const [id, c] of doc.commands) this.commands.set(id, c);
    }
    for (const r of (await this.journal.load()) as JournalRecord[]) {
      for (const [id, c] of r.c) {
        if (c === null) this.commands.delete(id);
        else this.commands.set(id, c);
      }
      if (r.jobs) {
        this.jobs.clear();
        for (const j of r.jobs) this.jobs.set(j.id, j);
      }
    }
    this.commands.take(); // loaded, not changed
    this.jobsWritten = JSON.stringify([...this.jobs.values()]);
  }

  private async write(): Promise<void> {
    const keys = this.commands.take();
    const jobs = [...this.jobs.values()];
    const jobsText = JSON.stringify(jobs);
    const jobsChanged = jobsText !== this.jobsWritten;
    if (keys.length === 0 && !jobsChanged) return;
    this.jobsWritten = jobsText;
    const record: JournalRecord = {
      c: keys.map((id): [string, StoredCommand | null] => [id, this.commands.get(id) ?? null]),
      ...(jobsChanged && { jobs }),
    };
    // A journal longer than the record itself is replaced by a snapshot. The
    // snapshot is taken now, with the line: it is exactly the old snapshot
    // plus the whole journal, so a crash before the journal is emptied
    // replays the journal over it to the same state.
    const compact = this.journal.lineCount + 1 > Math.max(1000, this.commands.size + this.jobs.size);
    const snapshot = compact ? JSON.stringify({ version: 1, jobs, commands: [...this.commands.entries()] }) : '';
    await this.journal.append(record);
    if (!compact) return;
    await this.snapshot.replace(snapshot);
    await this.journal.truncate();
  }
}
