// The agent under test, in its own process (dist/agent/main.js), so that it
// does not share a JS thread with the load generator. Its state directory and
// (AMQP) command queue are removed when its scenario ends.
import { join } from 'node:path';
import amqp from 'amqplib';
import { commandQueue } from '../../src/contract/addresses';
import type { Cleanup } from './cleanup';
import { startChild, type Child } from './proc';
import { benchNodeId, tempDir } from './tmp';

export const AGENT_MAIN = join(__dirname, '..', '..', 'agent', 'main.js');

export interface AgentSpawnOptions {
  /** part of the node id */
  label: string;
  /** amqp://… or mqtt://… */
  bus: string;
  libvirtUri: string;
  prefetch?: number;
  /** 'info' prints the 'ready' line (and one line per command); default 'warn' */
  logLevel?: 'info' | 'warn';
  mqttVersion?: 4 | 5;
  readOnly?: boolean;
  extraArgs?: string[];
  /** its warn/error log lines are added here once it stopped */
  problems?: string[];
}

export interface AgentProcess {
  readonly nodeId: string;
  readonly child: Child;
  readonly args: string[];
  /** ms from spawn to the log line whose msg starts with 'ready' (needs logLevel 'info') */
  readyLine(timeoutMs?: number): Promise<number>;
  /** warn/error/fatal lines it logged, as text */
  complaints(): string[];
  stop(): Promise<void>;
}

interface LogLine {
  level?: number;
  msg?: string;
  [k: string]: unknown;
}

function parse(line: string): LogLine | undefined {
  try {
    return JSON.parse(line) as LogLine;
  } catch {
    return undefined;
  }
}

/** The environment agents run in: the malloc arenas as the systemd unit and the container set them (deploy/). */
export function agentEnv(): NodeJS.ProcessEnv {
  return { MALLOC_ARENA_MAX: '2', ...process.env };
}

export function spawnAgent(o: AgentSpawnOptions, cleanup: Cleanup): AgentProcess {
  const nodeId = benchNodeId(o.label);
  if (o.bus.startsWith('amqp')) {
    // registered before the process, so it runs after the process stopped
    cleanup.add(`delete queues of ${nodeId}`, () => deleteQueues(o.bus, [commandQueue(nodeId)]));
  }
  const self: { agent?: AgentProcess } = {};
  // registered before the process, so it runs after the process stopped (shutdown complaints included)
  if (o.problems) cleanup.add('collect agent complaints', () => o.problems!.push(...(self.agent?.complaints() ?? [])));
  const stateDir = tempDir(`agent-${o.label}`, cleanup);
  const args = [
    // e.g. VIRTBUS_BENCH_AGENT_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to see where the agent's time goes
    ...(process.env.VIRTBUS_BENCH_AGENT_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    AGENT_MAIN,
    '--node-id',
    nodeId,
    '--bus',
    o.bus,
    '--libvirt-uri',
    o.libvirtUri,
    '--heartbeat',
    '0',
    '--log-level',
    o.logLevel ?? 'warn',
    '--state-dir',
    stateDir,
    '--prefetch',
    String(o.prefetch ?? 64),
    ...(o.bus.startsWith('mqtt') ? ['--mqtt-version', String(o.mqttVersion ?? 5)] : []),
    ...(o.readOnly ? ['--read-only'] : []),
    ...(o.extraArgs ?? []),
  ];
  const child = startChild(`agent ${nodeId}`, process.execPath, args, cleanup, agentEnv());
  const agent: AgentProcess = {
    nodeId,
    child,
    args: args.slice(1),
    async readyLine(timeoutMs = 30_000) {
      const r = await child.waitForLine((l) => parse(l)?.msg?.startsWith('ready') ?? false, timeoutMs);
      return r.ms;
    },
    complaints() {
      return child.lines
        .map(parse)
        .filter((l): l is LogLine => (l?.level ?? 0) >= 40)
        .map((l) => {
          const { level: _l, time: _t, pid: _p, hostname: _h, node: _n, msg, ...rest } = l;
          return `agent ${nodeId}: ${msg ?? ''} ${JSON.stringify(rest)}`.slice(0, 400);
        });
    },
    stop: () => child.stop(),
  };
  self.agent = agent;
  return agent;
}

/** Deletes queues (and exchanges) we declared, on a connection of its own. */
export async function deleteQueues(url: string, queues: string[], exchanges: string[] = []): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    for (const q of queues) await ch.deleteQueue(q);
    for (const x of exchanges) await ch.deleteExchange(x);
    await ch.close();
  } finally {
    await conn.close().catch(() => undefined);
  }
}
