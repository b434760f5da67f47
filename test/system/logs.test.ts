// Logs for people and for machines: on a real terminal (a pseudo-terminal
// from util-linux's `script`) the agent's lines are pretty-printed; through a
// pipe they stay JSON lines; --log-format forces either.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { AMQP_URL, deleteNodeQueues } from '../helpers/amqp-client';
import { testNode } from '../helpers/agent';
import { agentStateDir, removeAgentState } from '../helpers/agent-process';

const MAIN = join(__dirname, '..', '..', 'dist', 'agent', 'main.js');

/** Runs the agent until it logged that it is ready, then stops it; its stdout (through a terminal when tty). */
function runUntilReady(node: string, o: { tty: boolean; format?: string }): Promise<string> {
  const args = [
    MAIN,
    '--node-id',
    node,
    '--bus',
    AMQP_URL,
    '--metrics-listen',
    'none',
    '--state-dir',
    agentStateDir(node),
    ...(o.format ? ['--log-format', o.format] : []),
  ];
  const quoted = [process.execPath, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const child = o.tty
    ? spawn('script', ['-qfec', quoted, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the agent did not log 'ready' within 30 s; output: ${out.slice(-2000)}`));
    }, 30_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (/ready: consuming commands/.test(out)) {
        clearTimeout(timer);
        // `script` passes the terminal's Ctrl-C on: SIGTERM the whole group instead
        child.kill('SIGTERM');
      }
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${o.tty ? 'script (util-linux)' : 'node'}: ${e.message}`));
    });
    child.on('exit', () => resolve(out));
  });
}

const nodes: string[] = [];
afterAll(async () => {
  for (const n of nodes) {
    await deleteNodeQueues(n);
    removeAgentState(n);
  }
});
const node = () => {
  const n = testNode('logs');
  nodes.push(n);
  return n;
};

test('on a terminal the lines are for people: pretty-printed, no JSON', async () => {
  const out = await runUntilReady(node(), { tty: true });
  const lines = out.split(/\r?\n/).filter((l) => /starting|ready: consuming/.test(l));
  expect(lines.length).toBeGreaterThanOrEqual(2);
  for (const l of lines) {
    expect(l.trim().startsWith('{')).toBe(false);
    expect(l).toMatch(/INFO/);
  }
});

test('through a pipe they stay JSON lines for machines; --log-format forces either', async () => {
  const piped = await runUntilReady(node(), { tty: false });
  const ready = piped.split('\n').find((l) => l.includes('ready: consuming'))!;
  expect(JSON.parse(ready)).toMatchObject({ level: 30, msg: 'ready: consuming commands' });
  const forced = await runUntilReady(node(), { tty: true, format: 'json' });
  const line = forced.split(/\r?\n/).find((l) => l.includes('ready: consuming'))!;
  expect(JSON.parse(line.trim())).toMatchObject({ msg: 'ready: consuming commands' });
  const pretty = await runUntilReady(node(), { tty: false, format: 'pretty' });
  expect(
    pretty
      .split('\n')
      .find((l) => l.includes('ready: consuming'))!
      .trim()
      .startsWith('{'),
  ).toBe(false);
});
