// Child processes of the bench (agents, echo responders, Mosquitto): started
// with their stdout read line by line, stopped with SIGTERM (SIGKILL after a
// grace period), never left behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Cleanup } from './cleanup';

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  /** process.hrtime.bigint() just before spawn */
  readonly spawnedAt: bigint;
  /** resolves with the first stdout line `match` accepts and the ms since spawn */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<{ line: string; ms: number }>;
  /** every stdout line so far */
  readonly lines: string[];
  /** the last stderr output (for error messages) */
  stderrTail(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, SIGKILL after graceMs; resolves once it is gone */
  stop(graceMs?: number): Promise<void>;
}

export function startChild(
  name: string,
  command: string,
  args: string[],
  cleanup: Cleanup,
  env: NodeJS.ProcessEnv = process.env,
): Child {
  const spawnedAt = process.hrtime.bigint();
  // agents of a bench serve no metrics unless asked (many of them would want one port)
  const proc = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { VIRTBUS_METRICS_LISTEN: 'none', ...env },
  });
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  const lines: string[] = [];
  const waiters = new Set<(line: string) => void>();
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    if (lines.length < 100_000) lines.push(line);
    for (const w of [...waiters]) w(line);
  });
  let stderr = '';
  proc.stderr!.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000);
  });
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
    proc.once('error', () => resolve({ code: null, signal: null }));
  });
  const child: Child = {
    name,
    proc,
    pid: proc.pid,
    spawnedAt,
    lines,
    stderrTail: () => stderr.trim(),
    exited,
    waitForLine(match, timeoutMs) {
      return new Promise((resolve, reject) => {
        const done = (err?: Error, line?: string) => {
          waiters.delete(onLine);
          clearTimeout(timer);
          if (err) reject(err);
          else resolve({ line: line!, ms: Number(process.hrtime.bigint() - spawnedAt) / 1e6 });
        };
        const onLine = (line: string) => {
          if (match(line)) done(undefined, line);
        };
        const timer = setTimeout(
          () => done(new Error(`${name}: no expected output within ${timeoutMs} ms; stderr: ${stderr.trim()}`)),
          timeoutMs,
        );
        const already = lines.find(match);
        if (already !== undefined) return done(undefined, already);
        waiters.add(onLine);
        void exited.then((x) =>
          done(new Error(`${name} exited (code ${x.code}, signal ${x.signal}) before it was ready: ${stderr.trim()}`)),
        );
      });
    },
    async stop(graceMs = 10_000) {
      if (exitInfo) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  cleanup.add(`stop ${name} (pid ${proc.pid})`, () => child.stop());
  return child;
}

/** VmRSS of a live process in MiB (from /proc/PID/status). */
export function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

/** CPU seconds (user + system, every thread) a live process has used so far (from /proc/PID/stat). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // the fields after the command name, which may hold spaces: state is field 3, utime 14, stime 15
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
}
/** USER_HZ: 100 on Linux for every architecture Node runs on */
const CLOCK_TICKS = 100;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
