// The virtbus CLI (dist/agent/virtbus.js, built by npm test) as its own
// process: its exit code and output, optionally with stdin. A non-zero exit
// is an outcome here, not an error. And the end of a private tmux server,
// for the tests that run the CLI on a real terminal.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const CLI = join(__dirname, '..', '..', 'dist', 'agent', 'virtbus.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function cli(
  args: string[],
  o: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliRun> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build it with \`npm run build:ts\` (npm test does)`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...o.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(o.input ?? '');
  });
}

/** Ends a private tmux server (tmux -L socket) if it still runs, and removes its socket file. */
export function stopTmux(socket: string): void {
  try {
    execFileSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
  } catch {
    /* no server left: it ends with its last session */
  }
  rmSync(join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid!()}`, socket), { force: true });
}
