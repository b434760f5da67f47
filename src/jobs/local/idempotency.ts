// Durable idempotency for the embedded (no Redis) agent: command id →
// outcome in the local state file, bounded in time and count like the
// in-memory IdempotencyRecord it replaces.
import type { ReplyData } from '../../contract/events';
import { AgeBound } from '../../idempotency';
import { abandoned } from '../outcome';
import type { DurableIdempotency, IdempotencyEntry } from '../types';
import type { LocalStore } from './store';

export interface LocalIdempotencyOptions {
  /** how long a finished command's outcome is kept (ms, default 1 h) */
  windowMs?: number;
  /** most outcomes kept; the oldest finished ones go first (default 10000; src/idempotency.ts AgeBound has the slack) */
  maxEntries?: number;
}

export class LocalIdempotency implements DurableIdempotency {
  private readonly bound: AgeBound;

  constructor(
    private readonly store: LocalStore,
    private readonly bootId: string,
    o: LocalIdempotencyOptions = {},
  ) {
    this.bound = new AgeBound(o.maxEntries ?? 10_000, o.windowMs ?? 60 * 60_000);
  }

  async get(id: string): Promise<IdempotencyEntry | undefined> {
    await this.store.ready();
    return this.current(id);
  }

  async begin(id: string, command: string): Promise<'new' | IdempotencyEntry> {
    await this.store.ready();
    // Check and set without an await in between: atomic within the process.
    const known = this.current(id);
    if (known) return known;
    this.store.commands.set(id, { state: 'running', command, since: Date.now(), boot: this.bootId });
    await this.store.save();
    return 'new';
  }

  async finish(id: string, command: string, reply: ReplyData): Promise<void> {
    await this.store.ready();
    this.record(id, command, reply);
    await this.store.save();
  }

  async forget(id: string): Promise<void> {
    await this.store.ready();
    if (this.store.commands.delete(id)) await this.store.save();
  }

  /** Sets the outcome in memory only; the caller saves (with its own change, in one write). */
  record(id: string, command: string, reply: ReplyData): void {
    this.store.commands.delete(id); // re-insert: Map order is age order
    this.store.commands.set(id, { state: 'done', command, reply, at: Date.now(), boot: this.bootId });
    this.bound.afterInsert(this.store.commands);
  }

  /**
   * Entries a previous agent left running and that no job stands for: the
   * command's outcome is unknown, so the entry becomes an error outcome (a
   * redelivery must not run it again). Returns their ids; the caller saves.
   */
  abandonStale(isJob: (id: string) => boolean): string[] {
    const ids: string[] = [];
    for (const [id, e] of this.store.commands) {
      if (e.state === 'running' && e.boot !== this.bootId && !isJob(id)) ids.push(id);
    }
    for (const id of ids)
      this.record(id, this.store.commands.get(id)!.command, abandoned(id, this.store.commands.get(id)!.command));
    return ids;
  }

  /** Drops outcomes older than the window (and beyond the bound); true if anything went. */
  sweep(): boolean {
    return this.bound.sweep(this.store.commands) > 0;
  }

  private current(id: string): IdempotencyEntry | undefined {
    const e = this.store.commands.get(id);
    if (e && this.bound.isPast(e)) {
      this.store.commands.delete(id);
      return undefined;
    }
    if (!e) return undefined;
    const { boot: _boot, ...entry } = e;
    return entry as IdempotencyEntry;
  }
}
