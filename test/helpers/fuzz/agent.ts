// The agent under fuzz as a real process (dist/agent/main.js). Like
// test/helpers/agent-process.ts, but it keeps only a bounded part of the
// log (thousands of refused commands each log a line), counts lines by
// message, and reads the process's RSS.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const AGENT_MAIN =
  process.env.VIRTBUS_FUZZ_AGENT_MAIN ?? join(__dirname, '..', '..', '..', 'dist', 'agent', 'main.js');

/** The agent did not get ready; the agent (its log) comes with it. */
export class StartError extends Error {
  constructor(
    message: string,
    readonly agent: FuzzAgent,
  ) {
    super(message);
    this.name = 'StartError';
  }
}

export interface LogLine {
  level?: number;
  msg?: string;
  [k: string]: unknown;
}

export class FuzzAgent {
  readonly tail: LogLine[] = [];
  /** lines at level error (50) and above, the first 200 */
  readonly errors: LogLine[] = [];
  readonly counts = new Map<string, number>();
  /** the first few lines of each message at warn (40) and above */
  readonly firstOf = new Map<string, LogLine[]>();
  stderr = '';
  readonly exited: Promise<number | null>;
  exitCode?: number | null;
  private buf = '';

  private constructor(
    readonly child: ChildProcess,
    readonly args: string[],
  ) {
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, sig) => {
        this.exitCode = code ?? (sig ? -1 : null);
        resolve(code);
      }),
    );
    child.stderr!.on('data', (b) => {
      if (this.stderr.length < 20000) this.stderr += b;
    });
    child.stdout!.on('data', (b) => this.onData(String(b)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  static async start(args: string[], readyTimeoutMs = 30000): Promise<FuzzAgent> {
    if (!existsSync(AGENT_MAIN))
      throw new Error(`${AGENT_MAIN} is missing: build it with \`npm run build:ts\` (npm test does)`);
    const metrics = args.some((a) => a.startsWith('--metrics-listen')) ? [] : ['--metrics-listen', 'none'];
    const child = spawn(process.execPath, [AGENT_MAIN, ...args, ...metrics], { stdio: ['ignore', 'pipe', 'pipe'] });
    const a = new FuzzAgent(child, args);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(
        () =>
          reject(new Error(`agent not ready in ${readyTimeoutMs} ms: ${a.stderr} ${JSON.stringify(a.tail.slice(-5))}`)),
        readyTimeoutMs,
      );
      const poll = setInterval(() => {
        // needs --log-level info (the 'ready' line is info)
        if ([...a.counts.keys()].some((k) => k.startsWith('ready'))) {
          clearInterval(poll);
          clearTimeout(t);
          resolve();
        }
      }, 20);
      void a.exited.then((code) => {
        clearInterval(poll);
        clearTimeout(t);
        const fatal = a.errors.filter((l) => (l.level ?? 0) >= 60);
        reject(
          new StartError(
            `agent exited with ${code} before it was ready: ${a.stderr.slice(0, 2000)} ${JSON.stringify(fatal.length ? fatal : a.tail.slice(-3)).slice(0, 3000)}`,
            a,
          ),
        );
      });
    });
    return a;
  }

  private onData(s: string): void {
    this.buf += s;
    let i;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      let l: LogLine;
      try {
        l = JSON.parse(line);
      } catch {
        l = { msg: line.slice(0, 2000) };
      }
      const msg = String(l.msg ?? '');
      this.counts.set(msg, (this.counts.get(msg) ?? 0) + 1);
      const small =
        JSON.stringify(l).length > 4000 ? { level: l.level, msg, truncated: JSON.stringify(l).slice(0, 4000) } : l;
      this.tail.push(small);
      if (this.tail.length > 300) this.tail.shift();
      if ((l.level ?? 0) >= 50 && this.errors.length < 200) this.errors.push(small);
      if ((l.level ?? 0) >= 40 && msg !== 'command') {
        const list = this.firstOf.get(msg) ?? [];
        if (list.length < 3) list.push(small);
        this.firstOf.set(msg, list);
      }
    }
  }

  count(msg: string): number {
    return this.counts.get(msg) ?? 0;
  }

  /** VmRSS and VmHWM (peak) in KiB, from /proc */
  memory(): { rssKiB: number; peakKiB: number } | undefined {
    try {
      const s = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
      return { rssKiB: kib('VmRSS'), peakKiB: kib('VmHWM') };
    } catch {
      return undefined;
    }
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** SIGTERM, then SIGKILL after ms; resolves with the exit code. */
  async stop(ms = 15000): Promise<number | null | undefined> {
    if (!this.running) return this.exitCode;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), ms);
    await this.exited;
    clearTimeout(t);
    return this.exitCode;
  }

  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}
