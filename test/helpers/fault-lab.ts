// The fault tests' side of the real lab (test/system/): tiny QEMU guests of
// a test's own (all removed at the end, a SIGSTOPped QEMU continued first),
// libvirtd SIGKILLed and started again without handing it our descriptors,
// and the errors a fault may legitimately cause. Plus the polling helpers
// the fault tests share.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Connection } from '../../src/libvirt';
import { tinyQemuXml } from './fault-load';
import { LAB_SCRIPT, NODE1_URI, openNode, qemuPid } from './lab';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(fn: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

export async function waitForAsync<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Our domains in libvirt: the prefix, and count running tiny guests for the lifecycle workers (plus extra ones). */
export async function labDomains(
  defer: (what: string, step: () => unknown) => void,
  node: string,
  count: number,
  extra: string[] = [],
): Promise<{ conn: Connection; prefix: string; lifecycle: string[] }> {
  const conn = await openNode(NODE1_URI);
  const prefix = `vb-${node}-`;
  defer('libvirt connection', () => conn.close());
  defer('domains', () => removeDomains(prefix));
  const lifecycle = Array.from({ length: count }, (_, i) => `${prefix}lc${i}`);
  for (const name of [...lifecycle, ...extra.map((e) => `${prefix}${e}`)]) {
    const d = await conn.defineDomain(tinyQemuXml(name));
    await d.start();
  }
  return { conn, prefix, lifecycle };
}

/** Destroys and undefines every domain whose name starts with prefix (a stopped QEMU is continued first). Own connection: libvirtd may have restarted. */
export async function removeDomains(prefix: string): Promise<void> {
  const conn = await Connection.open(NODE1_URI);
  try {
    for (const d of await conn.listDomains('all')) {
      if (!d.name.startsWith(prefix)) continue;
      try {
        process.kill(qemuPid(d.name), 'SIGCONT');
      } catch {
        /* not running */
      }
      await d.destroy().catch(() => undefined);
      await d.undefine().catch(() => undefined);
    }
  } finally {
    await conn.close();
  }
}

export async function libvirtStates(prefix: string): Promise<Map<string, string>> {
  const conn = await Connection.open(NODE1_URI);
  try {
    const out = new Map<string, string>();
    for (const d of await conn.listDomains('all'))
      if (d.name.startsWith(prefix)) out.set(d.name, (await d.state()).state);
    return out;
  } finally {
    await conn.close();
  }
}

export const abandonedError = (c: { final?: { ok: boolean; error?: { code: string; message: string } } }) =>
  c.final?.ok === false && c.final.error?.code === 'INTERNAL' && /not run again/.test(c.final.error.message);

export type Answered = { final?: { ok: boolean; error?: { code: string; message: string } } };
/** A libvirt call cut by the daemon's death: the agent answers it with the libvirt error, though its outcome is unknown. */
export const connectionBroke = (c: Answered) =>
  c.final?.ok === false &&
  c.final.error?.code === 'LIBVIRT' &&
  // libvirt's RPC client's words for a socket gone mid-call (virnetclient.c, virnetsocket.c); the last one when
  // its poll sees the hang-up before a read fails (seen once in CI)
  /Cannot recv data|Cannot write data|client socket is closed|End of file while reading|received hangup event on socket/.test(
    c.final.error.message,
  );
/** Refused because libvirt was not connected: not run. */
export const notConnected = (c: Answered) => c.final?.ok === false && c.final.error?.code === 'UNAVAILABLE';

/** Node 1's libvirtd (its own pid file, as lab.sh reads it). */
export function libvirtdPid(): number {
  const pid = Number(readFileSync('/run/libvirtd.pid', 'utf8').trim());
  if (!pid || !readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('libvirtd')) {
    throw new Error(`no libvirtd behind /run/libvirtd.pid; start the lab first: \`bash deploy/lab/lab.sh up\``);
  }
  return pid;
}

export function existsLibvirtd(): boolean {
  try {
    return alive(libvirtdPid());
  } catch {
    return false;
  }
}

export function alive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .startsWith('Z');
  } catch {
    return false;
  }
}

/** lab.sh restart-node1 (SIGKILL libvirtd if it runs, start it, wait until it answers), without handing it our descriptors (the test lock). */
export function restartNode1(): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [
        '-c',
        'for fd in /proc/$$/fd/*; do n=${fd##*/}; ((n > 2 && n != 255)) && eval "exec $n>&-"; done; exec bash "$0" restart-node1',
        LAB_SCRIPT,
      ],
      { timeout: 120_000 },
      (err, _out, stderr) =>
        err ? reject(new Error(`lab.sh restart-node1 failed: ${err.message} ${stderr}`)) : resolve(),
    );
  });
}
