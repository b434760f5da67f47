// Domain handles kept per connection, by the reference (name or UUID) they
// were looked up with, so that a command on a domain seen before skips the
// lookup — a round trip to libvirtd on a real host (the lab's domain.get
// made five, this makes it four; an event's state read two, now one).
//
// A kept handle is never trusted for identity: libvirt resolves a handle by
// its UUID, while the name and id it holds are those of the lookup. Each use
// checks what the driver says now (one-hop.ts), and a handle that no longer
// answers to its reference (renamed, undefined, its name given to another
// domain) is forgotten and the reference looked up again. Only successful
// lookups are kept, so the map holds domains that existed; it is bounded
// all the same, and a new connection starts with none.
import type { DomainHandle } from './binding';
import type { Connection } from './connection';

/** handles kept per connection, at most (the oldest go first) */
export const MAX_KEPT_HANDLES = 4096;

const kept = new WeakMap<Connection, Map<string, DomainHandle>>();

export function keptHandle(conn: Connection, ref: string): DomainHandle | undefined {
  return kept.get(conn)?.get(ref);
}

export function keepHandle(conn: Connection, ref: string, h: DomainHandle): void {
  let m = kept.get(conn);
  if (!m) kept.set(conn, (m = new Map()));
  m.delete(ref); // re-insert: Map order is age order
  m.set(ref, h);
  if (m.size > MAX_KEPT_HANDLES) m.delete(m.keys().next().value!);
}

export function forgetHandle(conn: Connection, ref: string): void {
  kept.get(conn)?.delete(ref);
}

/** how many handles are kept for this connection (tests, metrics) */
export function keptHandleCount(conn: Connection): number {
  return kept.get(conn)?.size ?? 0;
}
