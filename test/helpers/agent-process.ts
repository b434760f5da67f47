// The agent as its own process (dist/agent/main.js, built by npm test), for
// what only a process shows: signals, exit codes, a SIGKILL, a restart. Its
// JSON log lines are kept with their times. One helper for every such test
// (test/system/: processes, lab, migration; test/agent/peers).
//
// Its state never goes to the machine's default (/var/lib/virtbus as root):
// unless the arguments name a --state-dir, each node id gets its own directory
// under the temp dir — the same one when the node is started again, as a real
// agent restarting finds its state — which removeAgentState(node) deletes.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AMQP_URL, deleteNodeQueues } from './amqp-client';
import type { CleanupStep } from './cleanup';
import { REDIS_URL } from './redis';

const MAIN = join(__dirname, '..', '..', 'dist', 'agent', 'main.js');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

export interface LogLine {
  t: number;
  msg: string;
  [k: string]: unknown;
}

/**
 * dist/agent/main.js as its own process. Spawned through a shell that
 * closes every inherited descriptor above stderr first: under
 * `flock LOCK npx jest` one of them is the test lock.
 */
export class AgentRun {
  readonly logs: LogLine[] = [];
  readonly exited: Promise<number | null>;
  readonly spawnedAt = Date.now();
  stderr = '';
  exitCode?: number | null;
  private readyAt?: number;

  private constructor(
    readonly child: ChildProcess,
    readonly args: string[],
  ) {
    this.exited = new Promise((resolve) =>
      child.on('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      }),
    );
    child.stderr!.on('data', (b) => {
      this.stderr += b;
    });
    let buf = '';
    child.stdout!.on('data', (b) => {
      buf += b;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        let rec: LogLine;
        try {
          const j = JSON.parse(line);
          rec = { ...j, t: Date.parse(j.time) || Date.now(), msg: String(j.msg ?? '') };
        } catch {
          rec = { t: Date.now(), msg: line };
        }
        this.logs.push(rec);
        if (!this.readyAt && rec.msg.startsWith('ready')) this.readyAt = rec.t;
      }
    });
  }

  static async start(args: string[], readyTimeoutMs = 30_000, env?: NodeJS.ProcessEnv): Promise<AgentRun> {
    const run = AgentRun.launch(args, env);
    await run.ready(readyTimeoutMs).catch(async (e) => {
      await run.kill();
      throw e;
    });
    return run;
  }

  /** Starts the process without waiting for 'ready' (an agent that cannot get ready, on purpose). */
  static launch(args: string[], env?: NodeJS.ProcessEnv): AgentRun {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build it with \`npm run build:ts\` (npm test does)`);
    // no metrics listener unless the test asks for one: many agents would all want 127.0.0.1:9477
    const metrics = args.some((a) => a.startsWith('--metrics-listen')) || env?.VIRTBUS_METRICS_LISTEN !== undefined;
    const child = spawn(
      'bash',
      [
        '-c',
        'for fd in /proc/$$/fd/*; do n=${fd##*/}; ((n > 2 && n != 255)) && eval "exec $n>&-"; done; exec "$@"',
        'virtbus-agent',
        process.execPath,
        MAIN,
        ...args,
        ...(metrics ? [] : ['--metrics-listen', 'none']),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], ...(env && { env: { ...process.env, ...env } }) },
    );
    return new AgentRun(child, args);
  }

  get pid(): number {
    return this.child.pid!;
  }
  get bootId(): string | undefined {
    return this.logs.find((l) => l.msg === 'starting')?.bootId as string | undefined;
  }
  get readyTime(): number | undefined {
    return this.readyAt;
  }

  async ready(timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!this.readyAt) {
      if (this.exitCode !== undefined)
        throw new Error(`agent exited with ${this.exitCode}: ${this.stderr} ${JSON.stringify(this.logs.slice(-5))}`);
      if (Date.now() > end)
        throw new Error(`agent not ready in ${timeoutMs} ms: ${this.stderr} ${JSON.stringify(this.logs.slice(-5))}`);
      await sleep(20);
    }
  }

  /** The first log line with this message at or after t (agent clock = ours: same machine). */
  firstLog(msg: string, after = 0, pred: (l: LogLine) => boolean = () => true): LogLine | undefined {
    return this.logs.find((l) => l.msg === msg && l.t >= after && pred(l));
  }

  async waitLog(
    msg: string,
    after: number,
    timeoutMs: number,
    pred: (l: LogLine) => boolean = () => true,
  ): Promise<LogLine> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const l = this.firstLog(msg, after, pred);
      if (l) return l;
      if (Date.now() > end) {
        throw new Error(
          `agent did not log '${msg}' within ${timeoutMs} ms; last lines: ${JSON.stringify(this.logs.slice(-8).map((x) => [x.msg, x.err ?? x.reason]))}`,
        );
      }
      await sleep(20);
    }
  }

  /** SIGKILL; resolves once it is gone. Never throws. */
  async kill(): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (clean stop), SIGKILL after graceMs. */
  async stop(graceMs = 15_000): Promise<number | null | undefined> {
    if (this.exitCode !== undefined) return this.exitCode;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
    return this.exitCode;
  }
}

export function agentArgs(o: {
  node: string;
  bus: string;
  libvirtUri: string;
  stateDir: string;
  redis?: string;
  extra?: string[];
}): string[] {
  return [
    '--node-id',
    o.node,
    '--bus',
    o.bus,
    '--libvirt-uri',
    o.libvirtUri,
    '--state-dir',
    o.stateDir,
    '--redis',
    o.redis ?? REDIS_URL,
    '--heartbeat',
    '0',
    '--drain',
    '5',
    '--log-level',
    'info',
    ...(o.extra ?? []),
  ];
}

/** What spawnAgent returns: the running agent process. */
export type AgentProcess = AgentRun;

/** Starts an agent without waiting for 'ready'; kill() or stop() it. State as spawnAgent. */
export function launchAgent(args: string[]): AgentProcess {
  return AgentRun.launch(withStateDir(args));
}

/** Starts an agent and waits for 'ready'; its state goes to agentStateDir(node) unless --state-dir is given. */
export function spawnAgent(args: string[], readyTimeoutMs = 30000, env?: NodeJS.ProcessEnv): Promise<AgentProcess> {
  return AgentRun.start(withStateDir(args), readyTimeoutMs, env);
}

/** An agent on libvirt's test driver over RabbitMQ, started and ready (the CLI's and the operations tests). */
export function spawnTestDriverAgent(
  node: string,
  extra: string[] = [],
  env?: NodeJS.ProcessEnv,
): Promise<AgentProcess> {
  return spawnAgent(
    ['--node-id', node, '--bus', AMQP_URL, '--libvirt-uri', 'test:///default', '--heartbeat', '0', ...extra],
    30000,
    env,
  );
}

/** What an AMQP agent of this node leaves: it stopped, its queues deleted, its state removed. */
export function agentCleanup(node: string, agent: () => AgentProcess | undefined): CleanupStep[] {
  return [
    ['stop the agent', () => agent()?.stop()],
    ['delete its queues', () => deleteNodeQueues(node)],
    ['remove its state', () => removeAgentState(node)],
  ];
}
