// A long-running command's progress in the CLI (src/cli/progress.ts,
// src/cli/job-run.ts). First the renderer alone: given job events, the
// terminal frames (redrawn with \r, erased at the end) and the plain lines.
// Then a real terminal: tmux runs `virtbus domain.migrate` against two real
// agent processes on the lab's two libvirt nodes, and the pane, sampled while
// the bandwidth-capped migration runs, shows the bar moving and then the
// result; then `--no-wait` prints the job id at once and `virtbus job watch
// ID` re-attaches (on the terminal and through a pipe). Guests, agents and
// the tmux server are removed after each test, also when it failed.
import { execFileSync } from 'node:child_process';
import { AMQP_URL, deleteNodeQueues } from '../helpers/amqp-client';
import { removeAgentState, spawnAgent, type AgentProcess } from '../helpers/agent-process';
import { testNode } from '../helpers/agent';
import { cleanupAll } from '../helpers/cleanup';
import { cli, CLI, stopTmux } from '../helpers/cli';
import { eventually } from '../helpers/events';
import {
  NODE1_URI,
  NODE2_MIGRATE_URI,
  NODE2_URI,
  guestXml,
  labUniq,
  openNode,
  removeGuest,
  waitGuestReady,
} from '../helpers/lab';
import type { Connection } from '../../src/libvirt';
import { ProgressView, barFrame, jobEventOf, progressFacts, progressLine } from '../../src/cli/progress';
import { bytes, duration } from '../../src/cli/units';

const MiB = 1024 * 1024;
const at = (s: number) => Date.parse('2026-11-23T08:00:00.000Z') + s * 1000;
const migrating = (processed: number, remaining: number, s: number) => ({
  event: 'progress' as const,
  id: 'c1',
  at: at(s),
  progress: {
    phase: 'migrating',
    dataTotal: 256 * MiB,
    dataProcessed: processed,
    dataRemaining: remaining,
    iteration: 1,
  },
});

describe('the renderer', () => {
  test('units: binary bytes with three digits, durations as m:ss / h:mm:ss', () => {
    expect([bytes(0), bytes(512), bytes(1536), bytes(115 * MiB), bytes(2.5 * 1024 * MiB), bytes(10.25 * MiB)]).toEqual([
      '0 B',
      '512 B',
      '1.50 KiB',
      '115 MiB',
      '2.50 GiB',
      '10.3 MiB',
    ]);
    expect([duration(7), duration(62), duration(3723)]).toEqual(['0:07', '1:02', '1:02:03']);
  });

  test('reads the contract example of job.progress: percent from what remains, bytes done of total', () => {
    const example = require('../../contracts/examples/event.job.progress.json');
    const e = jobEventOf(example)!;
    expect(e).toMatchObject({ event: 'progress', id: 'c-domain.migrate', command: 'domain.migrate', state: 'running' });
    const f = progressFacts(e.progress, e.at!);
    expect(f).toEqual({
      phase: 'memory',
      percent: ((268435456 - 147849216) / 268435456) * 100,
      processed: 120586240,
      total: 268435456,
      iteration: 1,
    });
    expect(progressLine(e.id, f)).toBe('job c-domain.migrate: progress: memory 44% 115 MiB/256 MiB iteration 1');
  });

  test('rate and ETA: from libvirt when it says (memBps, timeRemainingMs), else from two samples', () => {
    expect(
      progressFacts({ dataTotal: 100, dataRemaining: 50, memBps: 10 * MiB, timeRemainingMs: 4000 }, 0),
    ).toMatchObject({
      percent: 50,
      rate: 10 * MiB,
      eta: 4,
    });
    const later = progressFacts(migrating(30 * MiB, 200 * MiB, 2).progress, at(2), { processed: 10 * MiB, t: at(0) });
    expect(later.rate).toBe(10 * MiB);
    expect(later.eta).toBe(20);
    // a volume being written: its allocation of its capacity
    expect(progressFacts({ phase: 'allocating', bytesTotal: 2048 * MiB, bytesAllocated: 512 * MiB }, 0)).toEqual({
      phase: 'allocating',
      percent: 25,
      processed: 512 * MiB,
      total: 2048 * MiB,
    });
  });

  test('on a terminal: one line redrawn in place, the bar filling up, erased at the end', () => {
    const v = new ProgressView({ tty: true, columns: 110, label: 'domain.migrate' });
    const frames = [
      v.render({ event: 'started', id: 'c1', at: at(0) }),
      v.render(migrating(0, 256 * MiB, 0)),
      v.render(migrating(64 * MiB, 192 * MiB, 1)),
      v.render(migrating(192 * MiB, 64 * MiB, 2)),
    ];
    for (const f of frames) {
      expect(f.startsWith('\r')).toBe(true);
      expect(f.endsWith('\x1b[K')).toBe(true);
      expect(f).not.toContain('\n');
      expect(f.length - 4).toBeLessThanOrEqual(109);
    }
    expect(frames[0]).toBe('\rdomain.migrate started\x1b[K');
    expect(frames[1]).toBe(`\rdomain.migrate migrating [${'-'.repeat(30)}]    0%  0 B/256 MiB\x1b[K`);
    expect(frames[2]).toBe(
      `\rdomain.migrate migrating [${'#'.repeat(8)}${'-'.repeat(22)}]   25%  64.0 MiB/256 MiB  64.0 MiB/s  ETA 0:03\x1b[K`,
    );
    expect(frames[3]).toBe(
      `\rdomain.migrate migrating [${'#'.repeat(23)}${'-'.repeat(7)}]   75%  192 MiB/256 MiB  128 MiB/s  ETA 0:01\x1b[K`,
    );
    expect(v.render({ event: 'completed', id: 'c1', state: 'succeeded' })).toBe('\r\x1b[K');
    expect(v.clear()).toBe(''); // nothing left to erase
  });

  test('a narrow terminal drops the bar, then cuts the line: it never wraps', () => {
    const f = progressFacts(migrating(64 * MiB, 192 * MiB, 1).progress, at(1));
    expect(barFrame('domain.migrate', f, 40)).toBe('domain.migrate migrating   25%  64.0 Mi');
    expect(barFrame('domain.migrate', f, 40).length).toBe(39);
  });

  test('not a terminal: one plain line per event', () => {
    const v = new ProgressView({ tty: false, label: 'domain.migrate' });
    const out = [
      v.render({ event: 'started', id: 'c1', command: 'domain.migrate', at: at(0) }),
      v.render(migrating(64 * MiB, 192 * MiB, 1)),
      v.render(migrating(128 * MiB, 128 * MiB, 2)),
      v.render({ event: 'completed', id: 'c1', state: 'succeeded' }),
      v.clear(),
    ].join('');
    expect(out).toBe(
      [
        'job c1: started (domain.migrate)',
        'job c1: progress: migrating 25% 64.0 MiB/256 MiB iteration 1',
        'job c1: progress: migrating 50% 128 MiB/256 MiB 64.0 MiB/s ETA 0:02 iteration 1',
        'job c1: completed: succeeded',
        '',
      ].join('\n'),
    );
  });
});

describe('on a real terminal, against two agents on the lab', () => {
  const src = testNode('clisrc');
  const dst = testNode('clidst');
  const socket = `virtbus-test-${process.pid}`;
  const agents: AgentProcess[] = [];
  let n1: Connection;
  let n2: Connection;
  const guests: string[] = [];
  const sessions: string[] = [];
  // slow enough to sample a few frames (the lab guest has 256 MiB, mostly never touched)
  const BANDWIDTH = 'bandwidthMiBs=2';
  const base = ['--bus', AMQP_URL, '--node', src];

  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  /** Runs the command in a new 120x30 tmux pane; the pane keeps its text (and the exit code) after it ends. */
  function inTerminal(name: string, args: string[]): void {
    const quoted = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    tmux('new-session', '-d', '-s', name, '-x', '120', '-y', '30', `${quoted}; echo "EXIT=$?"; sleep 600`);
    sessions.push(name);
  }
  const pane = (name: string) => tmux('capture-pane', '-p', '-t', name);
  /** Samples the pane every 100 ms until it shows EXIT=; every distinct screen, in order. */
  async function sample(name: string, timeoutMs = 240_000): Promise<string[]> {
    const screens: string[] = [];
    const end = Date.now() + timeoutMs;
    for (;;) {
      const s = pane(name);
      if (screens[screens.length - 1] !== s) screens.push(s);
      if (/EXIT=\d+/.test(s)) return screens;
      if (Date.now() > end) throw new Error(`no EXIT= in the pane after ${timeoutMs} ms; last screen:\n${s}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const percents = (screens: string[]) =>
    screens.flatMap((s) => [...s.matchAll(/\] +(\d+)%/g)].map((m) => Number(m[1])));

  beforeAll(async () => {
    n1 = await openNode(NODE1_URI);
    n2 = await openNode(NODE2_URI);
    const common = ['--bus', AMQP_URL, '--heartbeat', '1', '--job-progress-ms', '200'];
    agents.push(
      await spawnAgent([
        '--node-id',
        dst,
        ...common,
        '--libvirt-uri',
        NODE2_URI,
        '--advertise-migrate-uri',
        NODE2_MIGRATE_URI,
      ]),
    );
    agents.push(await spawnAgent(['--node-id', src, ...common, '--libvirt-uri', NODE1_URI]));
  });

  afterEach(() =>
    cleanupAll([
      ...sessions
        .splice(0)
        .map((s): [string, () => unknown] => [`kill tmux session ${s}`, () => tmux('kill-session', '-t', s)]),
      ...guests
        .splice(0)
        .map((g): [string, () => Promise<void>] => [
          `remove ${g} from both nodes`,
          () => removeGuest(g, { node1: n1, node2: n2 }),
        ]),
    ]),
  );

  afterAll(() =>
    cleanupAll([
      ['stop the tmux server', () => stopTmux(socket)],
      ...agents.map((a): [string, () => unknown] => [`stop agent ${a.args[1]}`, () => a.stop()]),
      ['delete the queues', async () => Promise.all([deleteNodeQueues(src), deleteNodeQueues(dst)])],
      ['remove the agent state', () => [src, dst].forEach(removeAgentState)],
      ['close node 1', () => n1?.close()],
      ['close node 2', () => n2?.close()],
    ]),
  );

  async function bootGuest(): Promise<string> {
    const name = labUniq('cli');
    guests.push(name);
    await n1.createDomain(guestXml(name));
    await waitGuestReady(name);
    return name;
  }

  test('domain.migrate draws a moving bar, then erases it and prints the result', async () => {
    const name = await bootGuest();
    inTerminal('migrate', [...base, 'domain.migrate', `domain=${name}`, `to=${dst}`, BANDWIDTH]);
    const screens = await sample('migrate');
    const bars = screens.filter((s) => /^domain\.migrate \S+ \[[#-]+\] +\d+%/m.test(s));
    const seen = percents(bars);
    if (new Set(bars).size < 3 || seen.length < 3)
      throw new Error(`expected a moving bar; screens:\n${screens.join('\n-----\n')}`);
    expect(seen[seen.length - 1]).toBeGreaterThan(seen[0]); // the percentage rises
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1] - 1);
    // bytes done of the total (the guest's 256 MiB and its devices' memory), in binary units
    if (!bars.some((s) => / \d+(\.\d+)? (B|KiB|MiB)\/2\d\d MiB /.test(s)))
      throw new Error(`no bytes done/total in the bar; screens:\n${bars.join('\n-----\n')}`);
    const middle = bars[Math.floor(bars.length / 2)].split('\n').find((l) => /\[[#-]+\]/.test(l));
    console.log(
      `domain.migrate on a terminal: ${bars.length} distinct frames, percent ${seen.join(' ')}; e.g.\n${middle}`,
    );
    const last = screens[screens.length - 1];
    expect(last).toMatch(/EXIT=0/);
    expect(last).not.toMatch(/\[[#-]+\]/); // the bar is gone
    expect(last).toMatch(new RegExp(`^name +${name}$`, 'm'));
    expect(last).toMatch(new RegExp(`^node +${dst}$`, 'm'));
    expect((await (await n2.domain(name)).state()).state).toBe('running');
  });

  test('--no-wait prints the job id at once; job watch re-attaches on a terminal and through a pipe', async () => {
    const name = await bootGuest();
    const r = await cli([...base, '--no-wait', 'domain.migrate', `domain=${name}`, `to=${dst}`, BANDWIDTH]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const id = r.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    // it returned while the job runs: the agent has it
    const state = JSON.parse((await cli([...base, '--json', 'job.get', `id=${id}`])).stdout);
    expect(state).toMatchObject({ ok: true, result: { id, command: 'domain.migrate' } });
    expect(['queued', 'running']).toContain(state.result.state);

    inTerminal('watch', [...base, 'job', 'watch', id]);
    const piped = cli([...base, 'job', 'watch', id], { timeoutMs: 240_000 });
    const screens = await sample('watch');
    const seen = percents(screens);
    if (seen.length < 2) throw new Error(`expected progress frames; screens:\n${screens.join('\n-----\n')}`);
    expect(seen[seen.length - 1]).toBeGreaterThan(seen[0]);
    const last = screens[screens.length - 1];
    expect(last).toMatch(new RegExp(`^job ${id}: domain\\.migrate (queued|running) since `, 'm'));
    expect(last).toMatch(new RegExp(`^name +${name}$`, 'm'));
    expect(last).toMatch(/EXIT=0/);
    expect(last).not.toMatch(/\[[#-]+\]/);

    const p = await piped;
    expect(p.code).toBe(0);
    expect(p.stdout).toMatch(
      new RegExp(`^job ${id}: domain\\.migrate (queued|running) since .*\\n(.|\\n)*^name +${name}$`, 'm'),
    );
    const lines = p.stderr.split('\n').filter((l) => l);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l).toMatch(new RegExp(`^job ${id}: (progress: \\S+|completed: succeeded)`));
    expect(lines[lines.length - 1]).toBe(`job ${id}: completed: succeeded`);
    expect(p.stderr).not.toContain('\r');

    // once it ended: its state and result at once, exit 0
    const after = await cli([...base, 'job', 'watch', id]);
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(new RegExp(`^job ${id}: domain\\.migrate succeeded at `));
    await eventually(
      async () => (await (await n2.domain(name)).state()).state === 'running',
      'guest running on node 2',
    );
  });
});
