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
  /** most outcomes kept; the oldest go first (default 10000; see AgeBound for the slack) */
  maxEntries?: number;
}

/** An entry of an age-ordered record: running ones are never swept. */
interface Aged {
  state: 'running' | 'done';
  at?: number;
}

/** how often a record is swept for outcomes past the window, at most */
const SWEEP_EVERY_MS = 1000;

/**
 * The bound of an in-process record kept as an age-ordered Map (oldest
 * first; a finished entry is re-inserted, so finished ones are in the order
 * they finished): finished entries go oldest first while there are more than
 * maxEntries or they are older than the window.
 *
 * A sweep starts only when the Map has grown a sixteenth past maxEntries, or
 * a second after the last sweep — not after every insert. Iterating a Map
 * from its start walks every entry deleted since the Map was last rehashed,
 * so at the bound a sweep per insert cost twice the insert itself (4.5 µs a
 * command at 10,000 entries). Between sweeps a record holds up to
 * maxEntries + maxEntries/16 outcomes, and outcomes past the window for up
 * to a second, which `get` already treats as gone.
 */
export class AgeBound {
  private readonly slack: number;
  private nextSweepAt = 0;

  constructor(
    readonly maxEntries: number,
    readonly windowMs: number,
  ) {
    this.slack = Math.floor(maxEntries / 16);
  }

  /** A finished entry older than the window: gone, whether swept yet or not. */
  isPast(e: Aged, now = Date.now()): boolean {
    return e.state === 'done' && now - (e.at ?? now) > this.windowMs;
  }

  /** After an insert: sweeps if one is due. */
  afterInsert(m: Map<string, Aged>): void {
    const now = Date.now();
    if (m.size > this.maxEntries + this.slack || now >= this.nextSweepAt) this.sweep(m, now);
  }

  /** Sweeps now; returns how many entries went. */
  sweep(m: Map<string, Aged>, now = Date.now()): number {
    this.nextSweepAt = now + SWEEP_EVERY_MS;
    let removed = 0;
    for (const [id, e] of m) {
      if (e.state === 'running') continue; // never forget a command still running
      // Finished entries are in age order: the first young one ends the sweep.
      if (m.size <= this.maxEntries && !this.isPast(e, now)) break;
      m.delete(id);
      removed++;
    }
    return removed;
  }
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
  private readonly bound: AgeBound;

  constructor(o: IdempotencyOptions = {}) {
    this.bound = new AgeBound(o.maxEntries ?? 10_000, o.windowMs ?? 10 * 60_000);
  }

  get(id: string): IdempotencyEntry | undefined {
    const e = this.entries.get(id);
    if (e && this.bound.isPast(e)) {
      this.entries.delete(id);
      return undefined;
    }
    return e;
  }

  /** Marks id as running; false if it is known already. */
  begin(id: string, command: string): boolean {
    if (this.get(id)) return false;
    this.entries.set(id, { state: 'running', command, since: Date.now() });
    this.bound.afterInsert(this.entries);
    return true;
  }

  finish(id: string, command: string, reply: ReplyData): void {
    this.entries.delete(id); // re-insert: Map order is age order
    this.entries.set(id, { state: 'done', command, reply, at: Date.now() });
    this.bound.afterInsert(this.entries);
  }

  /** Forgets a running entry whose outcome must not be kept (e.g. never started). */
  forget(id: string): void {
    this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
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
