// The real libvirt lab (deploy/lab/): two libvirtd nodes and a minimal
// Linux guest. `npm test` starts it; when it is missing, tests fail and say
// how to start it — they never skip.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Connection, isLibvirtError, type Domain } from '../../src/libvirt';
import { withTimeout } from '../../src/timeout';
import { eventually } from './events';

const root = join(__dirname, '..', '..');
export const LAB_DIR = process.env.VIRTBUS_LAB_DIR ?? '/var/tmp/virtbus-lab';
export const NODE1_URI = process.env.VIRTBUS_LAB_NODE1_URI ?? 'qemu:///system';
export const NODE2_URI = process.env.VIRTBUS_LAB_NODE2_URI ?? 'qemu+tcp://127.0.0.2/system';
export const NODE2_MIGRATE_URI = process.env.VIRTBUS_LAB_NODE2_MIGRATE_URI ?? 'tcp://127.0.0.2';
export const LAB_SCRIPT = join(root, 'deploy', 'lab', 'lab.sh');
const START_HINT = 'start the lab first: `bash deploy/lab/lab.sh up` (npm test does this)';

/** Opens a lab node, failing with instructions if it does not answer. */
export async function openNode(uri: string): Promise<Connection> {
  try {
    return await Connection.open(uri);
  } catch (e) {
    throw new Error(`libvirt lab node ${uri} is not reachable (${(e as Error).message}); ${START_HINT}`);
  }
}

let uniqSeq = 0;
/** A guest or pool name no other test, suite or earlier run uses (two calls in one millisecond differ too). */
export function labUniq(prefix: string): string {
  return `vb-${prefix}-${process.pid}-${Date.now().toString(36)}-${++uniqSeq}`;
}

/** Domain XML of the minimal guest (deploy/lab/guest.xml.sh). */
export function guestXml(name: string, disk?: string): string {
  try {
    return execFileSync('bash', [join(root, 'deploy', 'lab', 'guest.xml.sh'), name, ...(disk ? [disk] : [])], {
      encoding: 'utf8',
    });
  } catch (e) {
    throw new Error(`cannot build the lab guest XML (${(e as Error).message}); ${START_HINT}`);
  }
}

const consolePath = (name: string) =>
  join(process.env.VIRTBUS_LAB_CONSOLE_DIR ?? join(LAB_DIR, 'console'), `${name}.log`);

export function consoleLog(name: string): string {
  const p = consolePath(name);
  return existsSync(p) ? readFileSync(p, 'utf8') : '';
}

/** How often the guest has booted so far (its console log is appended to across boots and migrations). */
export function readyCount(name: string): number {
  return consoleLog(name).split('VIRTBUS-GUEST-READY').length - 1;
}

/** Waits until the guest's init printed its marker (ACPI button listened to) `count` times in all. */
export async function waitGuestReady(name: string, timeoutMs = 90000, count = 1): Promise<void> {
  await eventually(
    async () => readyCount(name) >= count,
    `guest ${name} to print VIRTBUS-GUEST-READY (console: ${consolePath(name)})`,
    timeoutMs,
    250,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; last console lines:\n${consoleLog(name).split('\n').slice(-15).join('\n')}`);
  });
}

/** The QEMU process of a running guest on node 1. */
export function qemuPid(name: string): number {
  const pid = Number(readFileSync(`/run/libvirt/qemu/${name}.pid`, 'utf8').trim());
  if (!pid) throw new Error(`no QEMU pid for ${name}`);
  return pid;
}

export function lab(...args: string[]): string {
  return execFileSync('bash', [LAB_SCRIPT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function virsh(uri: string, ...args: string[]): string {
  return execFileSync('virsh', ['-q', '-c', uri, ...args], { encoding: 'utf8' });
}

/** The domain called `name` on conn, or undefined if there is none. */
export async function findDomain(conn: Connection, name: string): Promise<Domain | undefined> {
  try {
    return await conn.domain(name);
  } catch (e) {
    if (isLibvirtError(e, 'VIR_ERR_NO_DOMAIN')) return undefined;
    throw e;
  }
}

/** Destroys and undefines a domain by name if it exists (with its snapshot metadata and managed save); never throws. */
export async function removeDomain(conn: Connection | undefined, name: string): Promise<void> {
  if (!conn) return;
  try {
    const d = await conn.domain(name);
    await d.destroy().catch(() => undefined);
    await d.undefine({ snapshotsMetadata: true, managedSave: true }).catch(() => undefined);
  } catch {
    /* gone already */
  }
}

/**
 * Aborts any libvirt job of the guest on conn (virDomainAbortJob through the
 * facade) and waits until none runs: the source side of a migration, a save,
 * a snapshot. A refused abort (before the job is registered, during the
 * switch-over) is tried again. Nothing to do when the guest is not there.
 * Not for the destination of a migration: libvirt cannot abort an incoming
 * migration there — abort it on the source, or destroy the guest.
 */
export async function abortGuestJobs(conn: Connection | undefined, name: string, timeoutMs = 60000): Promise<void> {
  if (!conn) return;
  await eventually(
    async () => {
      const dom = await withTimeout(findDomain(conn, name), 10000, `lookup of ${name}`);
      if (!dom || !(await withTimeout(dom.isActive(), 10000, `isActive of ${name}`))) return true;
      const { type } = await withTimeout(dom.jobStats(), 10000, `job stats of ${name}`);
      if (type !== 'bounded' && type !== 'unbounded') return true;
      await withTimeout(dom.abortJob(), 10000, `abortJob of ${name}`).catch(() => undefined);
      return false;
    },
    `no libvirt job left on ${name}`,
    timeoutMs,
    200,
  );
}

/** Waits until the guest is gone from conn (destroyed and undefined). */
async function waitGone(conn: Connection, name: string, timeoutMs = 30000): Promise<void> {
  await eventually(
    async () => !(await findDomain(conn, name)),
    `${name} to be gone from ${await conn.canonicalUri().catch(() => 'the node')}`,
    timeoutMs,
    200,
  );
}

/**
 * Removes a lab guest wherever it is, even in the middle of a migration: its
 * jobs aborted on node 1 (the source), then destroyed and undefined on
 * node 2 and node 1; throws if it is still there. Also deletes its console log.
 */
export async function removeGuest(name: string, nodes: { node1?: Connection; node2?: Connection }): Promise<void> {
  const { node1, node2 } = nodes;
  try {
    await abortGuestJobs(node1, name).catch(() => undefined); // destroy below ends a job that would not abort
    for (const conn of [node2, node1]) {
      if (!conn) continue;
      await removeDomain(conn, name);
      await waitGone(conn, name);
    }
  } finally {
    rmSync(consolePath(name), { force: true });
  }
}

/**
 * The known place of a migration test's guest, whatever the test did or
 * where it failed: no libvirt job on it, absent (destroyed, undefined) on
 * node 2, running on node 1 — resumed if a migration left it paused, booted
 * again (same name) if it is gone or cannot run on.
 */
export async function resetGuest(name: string, nodes: { node1: Connection; node2: Connection }): Promise<void> {
  const { node1, node2 } = nodes;
  await abortGuestJobs(node1, name);
  await removeDomain(node2, name);
  await waitGone(node2, name);
  const dom = await findDomain(node1, name);
  if (dom) {
    let { state } = await dom.state();
    if (state === 'paused') {
      await dom.resume().catch(() => undefined);
      ({ state } = await dom.state());
    }
    if (state === 'running') return;
    await removeDomain(node1, name);
    await waitGone(node1, name);
  }
  const booted = readyCount(name);
  await node1.createDomain(guestXml(name));
  await waitGuestReady(name, 90000, booted + 1);
}

/** Where a lab pool keeps its volumes (under the lab's state directory). */
export const labPoolPath = (name: string): string => join(LAB_DIR, 'pools', name);
export const labPoolXml = (name: string): string =>
  `<pool type='dir'><name>${name}</name><target><path>${labPoolPath(name)}</path></target></pool>`;

/**
 * Removes a lab pool: its volumes deleted, stopped, undefined if persistent,
 * and its directory (which pool build created) removed; throws if the pool
 * is still there.
 */
export async function removePool(conn: Connection | undefined, name: string): Promise<void> {
  try {
    if (!conn) return;
    let pool;
    try {
      pool = await conn.storagePool(name);
    } catch (e) {
      if (isLibvirtError(e, 'VIR_ERR_NO_STORAGE_POOL')) return;
      throw e;
    }
    if (await pool.isActive()) {
      for (const v of await pool.volumes().catch(() => [])) await v.delete().catch(() => undefined);
      await pool.destroy().catch(() => undefined);
    }
    if (await pool.isPersistent().catch(() => false)) await pool.undefine().catch(() => undefined);
    await conn.storagePool(name).then(
      () => {
        throw new Error(`storage pool ${name} is still defined`);
      },
      (e: unknown) => {
        if (!isLibvirtError(e, 'VIR_ERR_NO_STORAGE_POOL')) throw e;
      },
    );
  } finally {
    rmSync(labPoolPath(name), { recursive: true, force: true });
  }
}
