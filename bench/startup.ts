// Row 5: time from spawn to the agent's 'ready' log line, and its resident
// memory after ready + 2 s idle — on test:///default and on a 1,000-domain
// test-driver node — next to a bare node process measured the same way, and
// (informative) the idle agent next to the fixed stack alone (lib/stack-floor.ts).
import { join } from 'node:path';
import { agentEnv, spawnAgent } from './lib/agent-process';
import { withCleanup } from './lib/cleanup';
import { rssMiB, sleep, startChild } from './lib/proc';
import { measured, type Row } from './lib/report';
import { median } from './lib/stats';
import { domainNames, writeTestNode } from './lib/test-node-xml';
import { tempDir } from './lib/tmp';
import type { BenchOptions } from './options';

const IDLE_MS = 2000;

interface Sample {
  readyMs: number;
  rssMiB: number;
}

/** A child that prints 'ready' and then idles: its time to that line and its RSS IDLE_MS later. */
async function idleChild(o: BenchOptions, name: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Sample> {
  return withCleanup(o.problems, async (cleanup) => {
    const child = startChild(name, process.execPath, args, cleanup, env);
    const { ms } = await child.waitForLine((l) => l === 'ready', 10_000);
    await sleep(IDLE_MS);
    return { readyMs: ms, rssMiB: rssMiB(child.pid) };
  });
}

const bareNode = (o: BenchOptions) =>
  idleChild(o, 'bare node', ['-e', "console.log('ready');setInterval(()=>{},1000)"]);

const STACK_FLOOR = join(__dirname, 'lib', 'stack-floor.js');

/** Node + the libvirt addon with a connection + amqplib with a channel, no agent code; the agent's malloc arenas. */
const stackFloor = (o: BenchOptions) => idleChild(o, 'stack floor', [STACK_FLOOR, o.amqpUrl], agentEnv());

async function agent(o: BenchOptions, label: string, libvirtUri: string): Promise<Sample> {
  return withCleanup(o.problems, async (cleanup) => {
    // info: the 'ready' line is logged at info (idle, so no per-command lines)
    const a = spawnAgent({ label, bus: o.amqpUrl, libvirtUri, logLevel: 'info', problems: o.problems }, cleanup);
    const readyMs = await a.readyLine();
    await sleep(IDLE_MS);
    return { readyMs, rssMiB: rssMiB(a.child.pid) };
  });
}

export async function runStartup(o: BenchOptions): Promise<Row[]> {
  const reps = o.quick ? 1 : 3;
  return withCleanup(o.problems, async (cleanup) => {
    const uri1000 = writeTestNode(tempDir('node1000', cleanup), domainNames(1000, 's'));
    const samples: Record<'bare' | 'floor' | 'idle' | 'full', Sample[]> = { bare: [], floor: [], idle: [], full: [] };
    for (let r = 0; r < reps; r++) {
      o.log(`startup: round ${r + 1}/${reps} (bare node, the stack alone, agent idle, agent with 1,000 domains)`);
      samples.bare.push(await bareNode(o));
      samples.floor.push(await stackFloor(o));
      samples.idle.push(await agent(o, 'start-idle', 'test:///default'));
      samples.full.push(await agent(o, 'start-1000', uri1000));
    }
    o.details.startup = { reps, idleMs: IDLE_MS, samples };
    const med = (k: keyof typeof samples, f: keyof Sample) => median(samples[k].map((s) => s[f]));
    const bareLabel = 'bare node';
    return [
      measured(
        'startup.ready.idle',
        'start → ready, test:///default (AMQP)',
        'ms',
        med('idle', 'readyMs'),
        med('bare', 'readyMs'),
        `${bareLabel} start → first line`,
      ),
      measured(
        'startup.ready.1000',
        'start → ready, 1,000 domains (AMQP)',
        'ms',
        med('full', 'readyMs'),
        med('bare', 'readyMs'),
        `${bareLabel} start → first line`,
        { of: 'agent', op: '<=', value: 1000 },
      ),
      measured(
        'startup.rss.idle',
        'RSS after ready + 2 s, idle',
        'MiB',
        med('idle', 'rssMiB'),
        med('bare', 'rssMiB'),
        bareLabel,
        { of: 'agent', op: '<=', value: 60 },
      ),
      measured(
        'startup.rss.idle.floor',
        'RSS after ready + 2 s, idle, against the stack alone (informative)',
        'MiB',
        med('idle', 'rssMiB'),
        med('floor', 'rssMiB'),
        'node + libvirt addon + amqplib, no agent code',
      ),
      measured(
        'startup.rss.1000',
        'RSS after ready + 2 s, 1,000 domains',
        'MiB',
        med('full', 'rssMiB'),
        med('bare', 'rssMiB'),
        bareLabel,
        { of: 'agent', op: '<=', value: 80 },
      ),
    ];
  });
}
