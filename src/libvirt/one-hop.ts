// Several libvirt calls on one domain made back to back on a worker thread:
// one hop to the pool and back instead of one per call (native domain.cc,
// "one hop"). The same calls as the Domain methods; the one policy here is
// when a kept handle (kept-handles.ts) may stand in for a lookup.
import { native, type NativeDomainSummary } from './binding';
import { looksLikeUuid, type Connection } from './connection';
import { Domain } from './domain';
import { isLibvirtError } from './error';
import {
  destroyFlags,
  domainListFlags,
  rebootFlags,
  shutdownFlags,
  startFlags,
  type DomainListFilter,
  type ShutdownMode,
} from './flags';
import { forgetHandle, keepHandle, keptHandle } from './kept-handles';
import { domainState, domainStateReason, type DomainStateName } from './names';

export interface DomainSummary {
  domain: Domain;
  uuid: string;
  name: string;
  /** -1 when inactive */
  id: number;
  state: DomainStateName;
  reason: string;
  maxMemoryKiB: number;
  memoryKiB: number;
  vcpus: number;
  cpuTimeNs: number;
  persistent: boolean;
  /** null: the driver cannot say */
  autostart: boolean | null;
}

/**
 * Whether what the driver says of a domain now still answers to the
 * reference it was looked up with: a UUID is looked up as a UUID first, a
 * name by name (Connection.domain).
 */
function answersTo(s: { name: string; uuid: string }, ref: string): boolean {
  return looksLikeUuid(ref) ? s.uuid.toLowerCase() === ref.toLowerCase() : s.name === ref;
}

const gone = (e: unknown) => {
  if (isLibvirtError(e, 'VIR_ERR_NO_DOMAIN')) return null;
  throw e;
};

/**
 * A domain (name or UUID, as Connection.domain) with everything domain.get
 * tells about it: through the handle kept from an earlier lookup when it
 * still answers to the reference, else looked up (and kept).
 */
export async function domainSummary(conn: Connection, ref: string): Promise<DomainSummary> {
  const h = keptHandle(conn, ref);
  if (h) {
    const s = await native.domainSummaryOf(h).catch(gone);
    if (s && answersTo(s, ref)) return summary(h, s);
    forgetHandle(conn, ref);
  }
  const s = await native.domainLookupSummary(conn.handle, ref, looksLikeUuid(ref));
  if (answersTo(s, ref)) keepHandle(conn, ref, s.domain);
  return summary(s.domain, s);
}

function summary(h: NativeDomainSummary['domain'], s: Omit<NativeDomainSummary, 'domain'>): DomainSummary {
  return {
    domain: new Domain(h),
    uuid: s.uuid,
    name: s.name,
    id: s.id,
    state: domainState(s.state),
    reason: domainStateReason(s.state, s.reason),
    maxMemoryKiB: s.maxMemoryKiB,
    memoryKiB: s.memoryKiB,
    vcpus: s.vcpus,
    cpuTimeNs: s.cpuTimeNs,
    persistent: s.persistent,
    autostart: s.autostart,
  };
}

export interface DomainListEntry {
  uuid: string;
  name: string;
  /** -1 when inactive */
  id: number;
  state: DomainStateName;
  reason: string;
  persistent: boolean;
}

/**
 * Every domain (as Connection.listDomains' filter) with its state and
 * persistence: one hop, not three per domain. A domain gone between the
 * listing and its reads is left out.
 */
export async function listDomainStates(conn: Connection, filter: DomainListFilter = 'all'): Promise<DomainListEntry[]> {
  return (await native.connectListDomainStates(conn.handle, domainListFlags(filter))).map((d) => ({
    uuid: d.uuid,
    name: d.name,
    id: d.id,
    state: domainState(d.state),
    reason: domainStateReason(d.state, d.reason),
    persistent: d.persistent,
  }));
}

/**
 * The state of the domain with this UUID: through the handle kept for it
 * (a handle is resolved by its UUID, so it answers for that domain as long
 * as one exists), else looked up and kept.
 */
export async function domainStateByUuid(
  conn: Connection,
  uuid: string,
): Promise<{ state: DomainStateName; reason: string }> {
  const h = keptHandle(conn, uuid);
  let s = h && (await native.domainGetState(h).catch(gone));
  if (!s) {
    if (h) forgetHandle(conn, uuid);
    const found = await native.domainLookupState(conn.handle, uuid);
    keepHandle(conn, uuid, found.domain);
    s = found;
  }
  return { state: domainState(s.state), reason: domainStateReason(s.state, s.reason) };
}

export type LifecycleRequest =
  | { op: 'start'; paused?: boolean }
  | { op: 'shutdown' | 'reboot'; mode?: ShutdownMode }
  | { op: 'destroy'; graceful?: boolean }
  | { op: 'suspend' | 'resume' };

/** native LifecycleOp */
const OPS = { start: 0, shutdown: 1, reboot: 2, destroy: 3, suspend: 4, resume: 5 } as const;

function flagsOf(r: LifecycleRequest): number {
  switch (r.op) {
    case 'start':
      return startFlags({ paused: r.paused });
    case 'shutdown':
      return shutdownFlags(r.mode);
    case 'reboot':
      return rebootFlags(r.mode);
    case 'destroy':
      return destroyFlags({ graceful: r.graceful });
    default:
      return 0;
  }
}

/**
 * Looks the domain up, runs the operation, reads the state after it.
 * state undefined: the domain is gone after it (a transient domain stopped).
 */
export async function operateDomain(
  conn: Connection,
  ref: string,
  r: LifecycleRequest,
): Promise<{ uuid: string; name: string; state?: DomainStateName }> {
  const o = await native.domainLookupOperate(conn.handle, ref, looksLikeUuid(ref), OPS[r.op], flagsOf(r));
  return { uuid: o.uuid, name: o.name, ...(o.state !== null && { state: domainState(o.state) }) };
}
