// The agent as its own process (dist/agent/main.js, built by npm test), for
// what only a process shows: signals, exit codes, a SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const MAIN = join(__dirname, '..', '..', 'dist', 'agent', 'main.js');

export interface AgentProcess {
  child: ChildProcess;
  logs: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
}

export async function spawnAgent(args: string[], readyTimeoutMs = 30000): Promise<AgentProcess> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build it with \`npm run build:ts\` (npm test does)`);
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr!.on('data', (b) => { stderr += b; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let buf = '';
  const ready = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`agent not ready in ${readyTimeoutMs} ms: ${stderr} ${JSON.stringify(logs.slice(-5))}`)), readyTimeoutMs);
    void exited.then((code) => { clearTimeout(t); reject(new Error(`agent exited with ${code}: ${stderr} ${JSON.stringify(logs.slice(-5))}`)); });
    child.stdout!.on('data', (b) => {
      buf += b;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try { logs.push(JSON.parse(line)); } catch { logs.push({ msg: line }); }
        if (String(logs[logs.length - 1].msg).startsWith('ready')) { clearTimeout(t); resolve(); }
      }
    });
  });
  await ready;
  return { child, logs, exited };
}
