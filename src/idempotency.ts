// The command id is the idempotency key (contract v1): a redelivered or
// re-sent command is answered from the record instead of running twice.
// IdempotencyStore is the one interface of every record: in memory (here),
// the local state file and Redis (src/jobs); all honour the window
// (--idempotency-window). Reads are recorded in memory, mutating commands in
// the job backend's durable store.
import type { ReplyData } from './contract/events';

export type IdempotencyEntry =
  | { state: 'running'; command: string; since: number }
  | { state: 'done'; command: string; reply: ReplyData; at: number };

export interface IdempotencyOptions {
  /** how long a finished command's outcome is kept (ms, default 10 min) */
  windowMs?: number;
  /** most outcomes kept; the oldest go first (default 10000) */
  maxEntries?: number;
}

/** Command id -> outcome; the dispatcher's one view of every store. */
export interface IdempotencyStore {
  get(id: string): Promise<IdempotencyEntry | undefined>;
  /** atomically: 'new' (now recorded as running), or what is known about the id */
  begin(id: string, command: string): Promise<'new' | IdempotencyEntry>;
  finish(id: string, command: string, reply: ReplyData): Promise<void>;
  /** forgets a running entry whose outcome must not be kept (e.g. refused before it started) */
  forget(id: string): Promise<void>;
}

/** The in-memory record, bounded in size and time (lost with the process). */
export class IdempotencyRecord {
  private readonly entries = new Map<string, IdempotencyEntry>();
  private readonly windowMs: number;
  private readonly maxEntries: number;

  constructor(o: IdempotencyOptions = {}) {
    this.windowMs = o.windowMs ?? 10 * 60_000;
    this.maxEntries = o.maxEntries ?? 10_000;
  }

  get(id: string): IdempotencyEntry | undefined {
    const e = this.entries.get(id);
    if (e?.state === 'done' && Date.now() - e.at > this.windowMs) {
      this.entries.delete(id);
      return undefined;
    }
    return e;
  }

  /** Marks id as running; false if it is known already. */
  begin(id: string, command: string): boolean {
    if (this.get(id)) return false;
    this.entries.set(id, { state: 'running', command, since: Date.now() });
    this.evict();
    return true;
  }

  finish(id: string, command: string, reply: ReplyData): void {
    this.entries.delete(id); // re-insert: Map order is age order
    this.entries.set(id, { state: 'done', command, reply, at: Date.now() });
    this.evict();
  }

  /** Forgets a running entry whose outcome must not be kept (e.g. never started). */
  forget(id: string): void {
    this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }

  private evict(): void {
    const now = Date.now();
    for (const [id, e] of this.entries) {
      if (this.entries.size <= this.maxEntries && !(e.state === 'done' && now - e.at > this.windowMs)) break;
      if (e.state === 'running') continue; // never forget a command still running
      this.entries.delete(id);
    }
  }
}

/** IdempotencyRecord as an IdempotencyStore. */
export class MemoryIdempotency implements IdempotencyStore {
  readonly record: IdempotencyRecord;
  constructor(o: IdempotencyOptions = {}) {
    this.record = new IdempotencyRecord(o);
  }
  async get(id: string): Promise<IdempotencyEntry | undefined> {
    return this.record.get(id);
  }
  async begin(id: string, command: string): Promise<'new' | IdempotencyEntry> {
    return this.record.begin(id, command) ? 'new' : this.record.get(id)!;
  }
  async finish(id: string, command: string, reply: ReplyData): Promise<void> {
    this.record.finish(id, command, reply);
  }
  async forget(id: string): Promise<void> {
    this.record.forget(id);
  }
}
