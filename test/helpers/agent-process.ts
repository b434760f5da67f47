// The agent as its own process (dist/agent/main.js, built by npm test), for
// what only a process shows: signals, exit codes, a SIGKILL.
//
// Its state never goes to the machine's default (/var/lib/virtbus as root):
// unless the arguments name a --state-dir, each node id gets its own directory
// under the temp dir — the same one when the node is started again, as a real
// agent restarting finds its state — which removeAgentState(node) deletes.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAIN = join(__dirname, '..', '..', 'dist', 'agent', 'main.js');

/** The state directory spawnAgent gives a node id (no other test or run uses the node id). */
export function agentStateDir(node: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(node)) throw new Error(`bad node id '${node}'`);
  return join(tmpdir(), `virtbus-state-${node}`);
}

/** Deletes what the agent of that node id kept in its state directory. */
export function removeAgentState(node: string): void {
  rmSync(agentStateDir(node), { recursive: true, force: true });
}

function withStateDir(args: string[]): string[] {
  if (args.includes('--state-dir') || args.some((a) => a.startsWith('--state-dir='))) return args;
  const i = args.indexOf('--node-id');
  if (i < 0 || !args[i + 1])
    throw new Error(
      'spawnAgent needs --node-id (or an explicit --state-dir) so its state stays out of /var/lib/virtbus',
    );
  return [...args, '--state-dir', agentStateDir(args[i + 1])];
}

export interface AgentProcess {
  child: ChildProcess;
  logs: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
}

export async function spawnAgent(args: string[], readyTimeoutMs = 30000): Promise<AgentProcess> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build it with \`npm run build:ts\` (npm test does)`);
  const child = spawn(process.execPath, [MAIN, ...withStateDir(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr!.on('data', (b) => {
    stderr += b;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let buf = '';
  const ready = new Promise<void>((resolve, reject) => {
    const t = setTimeout(
      () => reject(new Error(`agent not ready in ${readyTimeoutMs} ms: ${stderr} ${JSON.stringify(logs.slice(-5))}`)),
      readyTimeoutMs,
    );
    void exited.then((code) => {
      clearTimeout(t);
      reject(new Error(`agent exited with ${code}: ${stderr} ${JSON.stringify(logs.slice(-5))}`));
    });
    child.stdout!.on('data', (b) => {
      buf += b;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          logs.push(JSON.parse(line));
        } catch {
          logs.push({ msg: line });
        }
        if (String(logs[logs.length - 1].msg).startsWith('ready')) {
          clearTimeout(t);
          resolve();
        }
      }
    });
  });
  try {
    await ready;
  } catch (e) {
    // a process that did not come up must not live on past its test
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw e;
  }
  return { child, logs, exited };
}
