// The real libvirt lab (deploy/lab/): two libvirtd nodes and a minimal
// Linux guest. `npm test` starts it; when it is missing, tests fail and say
// how to start it — they never skip.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '../../src/libvirt';
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

export function labUniq(prefix: string): string {
  return `vb-${prefix}-${process.pid}-${Date.now().toString(36)}`;
}

/** Domain XML of the minimal guest (deploy/lab/guest.xml.sh). */
export function guestXml(name: string, disk?: string): string {
  try {
    return execFileSync('bash', [join(root, 'deploy', 'lab', 'guest.xml.sh'), name, ...(disk ? [disk] : [])], { encoding: 'utf8' });
  } catch (e) {
    throw new Error(`cannot build the lab guest XML (${(e as Error).message}); ${START_HINT}`);
  }
}

export function consoleLog(name: string): string {
  const p = join(process.env.VIRTBUS_LAB_CONSOLE_DIR ?? join(LAB_DIR, 'console'), `${name}.log`);
  return existsSync(p) ? readFileSync(p, 'utf8') : '';
}

/** Waits until the guest's init printed its marker (ACPI button listened to). */
export async function waitGuestReady(name: string, timeoutMs = 90000, count = 1): Promise<void> {
  await eventually(async () => (consoleLog(name).split('VIRTBUS-GUEST-READY').length - 1) >= count,
    `guest ${name} to print VIRTBUS-GUEST-READY (console: ${join(LAB_DIR, 'console', name + '.log')})`, timeoutMs, 250);
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

/** Destroys and undefines a domain by name if it exists; never throws. */
export async function removeDomain(conn: Connection | undefined, name: string): Promise<void> {
  if (!conn) return;
  try {
    const d = await conn.domain(name);
    await d.destroy().catch(() => undefined);
    await d.undefine().catch(() => undefined);
  } catch { /* gone already */ }
}
