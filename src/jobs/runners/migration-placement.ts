// Where is the guest now? After virDomainMigrateToURI3 returns — and even
// more after an agent restart — libvirt's word is not enough: nova found a
// job type NONE can mean finished or failed, and an error can come after the
// hand-over. The outcome is decided from the domain's state on both nodes.
import { Connection, isLibvirtError, type Domain, type JobStats } from '../../libvirt';
import type { DomainStateName } from '../../libvirt/names';
import { enums } from '../../libvirt/names';

export type Whereabouts = DomainStateName | 'gone' | 'unknown';

export interface Placement {
  source: Whereabouts;
  destination: Whereabouts;
  /** statistics of the last completed outgoing migration on the source, if the domain is still defined there */
  sourceStats?: JobStats;
  /** statistics of the completed incoming migration on the destination */
  destinationStats?: JobStats;
  /** why a side is unknown */
  sourceError?: string;
  destinationError?: string;
}

/** moved: on the destination only; stayed: on the source only; in-doubt: anything else */
export type Verdict = 'moved' | 'stayed' | 'in-doubt';

// States in which a QEMU process exists (shutdown = shutting down, still running).
const ACTIVE: ReadonlySet<Whereabouts> = new Set<Whereabouts>([
  'running',
  'blocked',
  'paused',
  'shutdown',
  'pmsuspended',
]);
export const isActive = (w: Whereabouts): boolean => ACTIVE.has(w);

const OP = enums.virDomainJobOperation;

async function completedStats(dom: Domain, operation: number): Promise<JobStats | undefined> {
  const s = await dom.jobStats({ completed: true }).catch(() => undefined);
  return s && s.params.operation === operation ? s : undefined;
}

async function side(
  conn: Connection,
  uuid: string,
  operation: number,
): Promise<{ where: Whereabouts; stats?: JobStats; error?: string }> {
  let dom: Domain;
  try {
    dom = await conn.domain(uuid);
  } catch (e) {
    if (isLibvirtError(e, 'VIR_ERR_NO_DOMAIN')) return { where: 'gone' };
    return { where: 'unknown', error: (e as Error).message };
  }
  try {
    const { state } = await dom.state();
    return { where: state, stats: await completedStats(dom, operation) };
  } catch (e) {
    // A transient domain can vanish between look-up and state.
    if (isLibvirtError(e, 'VIR_ERR_NO_DOMAIN')) return { where: 'gone' };
    return { where: 'unknown', error: (e as Error).message };
  }
}

/** Rejects after ms; closes a connection that opens too late. */
async function openWithin(open: () => Promise<Connection>, ms: number): Promise<Connection> {
  let timer: NodeJS.Timeout | undefined;
  const opening = open();
  try {
    return await Promise.race([
      opening,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          void opening.then(
            (c) => c.close(),
            () => undefined,
          );
          reject(new Error(`no answer within ${ms} ms`));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface LocateOptions {
  openDestination: (uri: string) => Promise<Connection>;
  /** ms to wait for the destination daemon (default 10000) */
  destinationTimeoutMs?: number;
}

export async function locateGuest(
  source: Connection,
  uuid: string,
  destinationUri: string,
  o: LocateOptions,
): Promise<Placement> {
  const src = await side(source, uuid, OP.VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT);
  let dst: { where: Whereabouts; stats?: JobStats; error?: string };
  let conn: Connection | undefined;
  try {
    conn = await openWithin(() => o.openDestination(destinationUri), o.destinationTimeoutMs ?? 10_000);
    dst = await side(conn, uuid, OP.VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN);
  } catch (e) {
    dst = { where: 'unknown', error: `cannot reach ${destinationUri}: ${(e as Error).message}` };
  } finally {
    await conn?.close().catch(() => undefined);
  }
  return {
    source: src.where,
    destination: dst.where,
    ...(src.stats && { sourceStats: src.stats }),
    ...(dst.stats && { destinationStats: dst.stats }),
    ...(src.error && { sourceError: src.error }),
    ...(dst.error && { destinationError: dst.error }),
  };
}

/**
 * `libvirtOk`: what virDomainMigrateToURI3 said (undefined after a restart,
 * when nobody heard it). A side we could not see is trusted to libvirt's
 * word only where libvirt's protocol leaves no other possibility: a guest
 * still running on the source after the job ended did not move.
 */
export function verdict(p: Placement, libvirtOk: boolean | undefined): Verdict {
  const src = isActive(p.source);
  const dst = isActive(p.destination);
  if (dst && !src && p.source !== 'unknown') return 'moved';
  if (dst && p.source === 'unknown' && libvirtOk === true) return 'moved';
  if (!src && p.source !== 'unknown' && p.destination === 'unknown' && libvirtOk === true) return 'moved';
  if (src && !dst && p.destination !== 'unknown') return 'stayed';
  // A source paused by a failed post-copy may coexist with a destination we cannot see: not sure then.
  if (p.source === 'running' && p.destination === 'unknown') return 'stayed';
  return 'in-doubt';
}

export function describePlacement(p: Placement): string {
  const one = (w: Whereabouts, err?: string) => (w === 'unknown' && err ? `unknown (${err})` : w);
  return `source: ${one(p.source, p.sourceError)}, destination: ${one(p.destination, p.destinationError)}`;
}
