// `virtbus watch` (src/cli/watch.ts): the filters (--domain, --event,
// --object) and the colours of state changes as functions, then the real
// CLI watching a real agent (test driver, over RabbitMQ) while a domain is
// suspended and resumed and another one is started: only what the filters
// let through is printed.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { eventLine, matches, stateColour, useColour, watchFilter } from '../../src/cli/watch';
import type { CloudEvent } from '../../src/contract/envelope';
import { AMQP_URL } from '../helpers/amqp-client';
import { agentCleanup, spawnTestDriverAgent, type AgentProcess } from '../helpers/agent-process';
import { testNode } from '../helpers/agent';
import { cleanupAfterEach, cleanupAll } from '../helpers/cleanup';
import { CLI, cli, stopTmux } from '../helpers/cli';
import { eventually } from '../helpers/events';

const TEST_UUID = '6695eb01-f6a4-8304-79aa-97f2502e193f';
const domainEvent = (name: string, event: string, detail?: string): CloudEvent =>
  ({
    specversion: '1.0',
    id: 'e1',
    source: 'virtbus://n1',
    type: 'virtbus.event.domain.lifecycle',
    time: '2026-11-23T08:00:00.000Z',
    data: { node: 'n1', domain: { name, uuid: name === 'test' ? TEST_UUID : 'x' }, event, detail, seq: 3 },
  }) as CloudEvent;
const other = (type: string, data: Record<string, unknown>): CloudEvent =>
  ({ specversion: '1.0', id: 'e2', source: 'virtbus://n1', type, data }) as CloudEvent;

describe('filters and colours', () => {
  test('--domain by name or UUID, --object by the type, --event by the type or the state change', () => {
    const started = domainEvent('test', 'started', 'booted');
    const pool = other('virtbus.event.pool.lifecycle', { pool: { name: 'default' }, event: 'started' });
    const job = other('virtbus.event.job.progress', { id: 'c1', state: 'running' });
    expect(matches(watchFilter({}), pool)).toBe(true);
    expect(matches(watchFilter({ domain: 'test' }), started)).toBe(true);
    expect(matches(watchFilter({ domain: TEST_UUID.toUpperCase() }), started)).toBe(true);
    expect(matches(watchFilter({ domain: 'web' }), started)).toBe(false);
    expect(matches(watchFilter({ domain: 'test' }), pool)).toBe(false);
    expect(matches(watchFilter({ object: 'domain' }), started)).toBe(true);
    expect(matches(watchFilter({ object: 'domain' }), pool)).toBe(false);
    expect(matches(watchFilter({ object: 'pool,job' }), job)).toBe(true);
    expect(matches(watchFilter({ event: 'lifecycle' }), started)).toBe(true);
    expect(matches(watchFilter({ event: 'started' }), started)).toBe(true);
    expect(matches(watchFilter({ event: 'started' }), pool)).toBe(true);
    expect(matches(watchFilter({ event: 'stopped,suspended' }), started)).toBe(false);
    expect(matches(watchFilter({ event: 'progress' }), job)).toBe(true);
    expect(matches(watchFilter({ domain: 'test', event: 'started', object: 'domain' }), started)).toBe(true);
    expect(() => watchFilter({ object: 'domain,vm' })).toThrow(
      '--object vm: one of domain, pool, network, agent, job, command',
    );
  });

  test('state changes are coloured: started/resumed green, stopped/destroyed red, suspended yellow; not when off', () => {
    expect(stateColour('started')).toBe('\x1b[32m');
    expect(stateColour('resumed')).toBe('\x1b[32m');
    expect(stateColour('stopped', 'shutdown')).toBe('\x1b[31m');
    expect(stateColour('stopped', 'destroyed')).toBe('\x1b[31m');
    expect(stateColour('suspended', 'paused')).toBe('\x1b[33m');
    expect(stateColour('defined')).toBeUndefined();
    expect(eventLine(domainEvent('test', 'suspended', 'paused'), true)).toBe(
      '2026-11-23T08:00:00.000Z  virtbus.event.domain.lifecycle  test  \x1b[33msuspended/paused\x1b[0m  seq=3',
    );
    expect(eventLine(domainEvent('test', 'suspended', 'paused'), false)).toBe(
      '2026-11-23T08:00:00.000Z  virtbus.event.domain.lifecycle  test  suspended/paused  seq=3',
    );
    expect(useColour(true, {})).toBe(true);
    expect(useColour(true, { NO_COLOR: '1' })).toBe(false);
    expect(useColour(true, { NO_COLOR: '' })).toBe(true); // no-color.org: only a non-empty value
    expect(useColour(false, {})).toBe(false);
    expect(useColour(undefined, {})).toBe(false);
  });
});

describe('virtbus watch against an agent', () => {
  const node = testNode('cliwatch');
  let agent: AgentProcess | undefined;
  const defer = cleanupAfterEach();
  const base = ['--bus', AMQP_URL, '--node', node];

  beforeAll(async () => {
    agent = await spawnTestDriverAgent(node);
  });
  afterAll(() => cleanupAll(agentCleanup(node, () => agent)));

  /** `virtbus watch …` running; its output so far; ended with SIGINT after the test. */
  async function watching(args: string[]) {
    const child: ChildProcess = spawn(process.execPath, [CLI, ...base, 'watch', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = { stdout: '', stderr: '', code: undefined as number | null | undefined };
    const exited = new Promise<void>((resolve) =>
      child.on('exit', (code) => {
        out.code = code;
        resolve();
      }),
    );
    child.stdout!.on('data', (b) => (out.stdout += b));
    child.stderr!.on('data', (b) => (out.stderr += b));
    defer('stop the watch', async () => {
      if (out.code === undefined) child.kill('SIGKILL');
      await exited;
    });
    if (!args.includes('--json'))
      await eventually(
        async () => out.stderr.includes(`watching the events of node ${node}`),
        'the watch to subscribe',
        20_000,
      );
    else await new Promise((r) => setTimeout(r, 1500)); // --json says nothing: give it time to subscribe
    const stop = async () => {
      child.kill('SIGINT');
      await exited;
      return out;
    };
    return { out, stop };
  }

  const run = async (...args: string[]) => {
    const r = await cli([...base, ...args]);
    if (r.code !== 0) throw new Error(`virtbus ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  };

  test('--domain test --object domain prints that domain’s events only, without colours through a pipe', async () => {
    const w = await watching(['--domain', 'test', '--object', 'domain']);
    const only = await watching(['--event', 'suspended']);
    const json = await watching(['--json', '--domain', TEST_UUID, '--event', 'resumed']);
    const xml =
      "<domain type='test'><name>cliwatch-other</name><memory>65536</memory><os><type>hvm</type></os></domain>";
    await run('domain.define', `xml=${xml}`);
    defer('remove cliwatch-other', () => cli([...base, 'domain.undefine', 'domain=cliwatch-other']));
    await run('domain.start', 'domain=cliwatch-other');
    await run('domain.suspend', 'domain=test');
    await run('domain.resume', 'domain=test');
    await run('domain.destroy', 'domain=cliwatch-other');
    await eventually(
      async () => /resumed/.test(w.out.stdout) && /resumed/.test(json.out.stdout),
      'the resumed event',
      20_000,
    );
    await new Promise((r) => setTimeout(r, 500)); // anything that should not come would have come by now

    const out = await w.stop();
    expect(out.code).toBe(0);
    const lines = out.stdout.split('\n').filter((l) => l);
    expect(lines.map((l) => l.split('  ').slice(1, 4))).toEqual([
      ['virtbus.event.domain.lifecycle', 'test', 'suspended/paused'],
      ['virtbus.event.domain.lifecycle', 'test', 'resumed/unpaused'],
    ]);
    expect(out.stdout).not.toContain('\x1b[');

    const o = await only.stop();
    expect(
      o.stdout
        .split('\n')
        .filter((l) => l)
        .map((l) => l.split('  ').slice(2, 4)),
    ).toEqual([['test', 'suspended/paused']]);

    const j = await json.stop();
    const events = j.stdout
      .split('\n')
      .filter((l) => l)
      .map((l) => JSON.parse(l) as CloudEvent);
    expect(events.map((e) => [e.type, (e.data as any).domain.name, (e.data as any).event])).toEqual([
      ['virtbus.event.domain.lifecycle', 'test', 'resumed'],
    ]);
    expect(j.stderr).toBe('');
  });

  test('on a terminal state changes are coloured; NO_COLOR turns that off', async () => {
    const socket = `virtbus-watch-${process.pid}`;
    const tmux = (...a: string[]) => execFileSync('tmux', ['-L', socket, ...a], { encoding: 'utf8' });
    defer('stop the tmux server', () => stopTmux(socket));
    const command = (env: string) => `${env} '${process.execPath}' '${CLI}' ${base.join(' ')} watch --domain test`;
    tmux('new-session', '-d', '-s', 'colour', '-x', '200', '-y', '20', command(''));
    tmux('new-session', '-d', '-s', 'plain', '-x', '200', '-y', '20', command('NO_COLOR=1'));
    const pane = (s: string) => tmux('capture-pane', '-e', '-p', '-t', s);
    await eventually(
      async () => ['colour', 'plain'].every((s) => pane(s).includes('watching the events')),
      'both watches to subscribe',
      20_000,
    );
    await run('domain.suspend', 'domain=test');
    await run('domain.resume', 'domain=test');
    await eventually(
      async () => ['colour', 'plain'].every((s) => pane(s).includes('resumed/')),
      'the resumed event on both terminals',
      20_000,
    );
    const coloured = pane('colour');
    expect(coloured).toMatch(/\x1b\[33msuspended\/paused/);
    expect(coloured).toMatch(/\x1b\[32mresumed\/unpaused/);
    const plain = pane('plain');
    expect(plain).toMatch(/ {2}suspended\/paused/);
    expect(plain).not.toMatch(/\x1b\[3[0-7]m/);
  });

  test('watch refuses an unknown --object and stray words before connecting (exit 2)', async () => {
    const r = await cli(['--bus', 'amqp://127.0.0.1:1', 'watch', '--object', 'vm']);
    expect([r.code, r.stderr]).toEqual([
      2,
      'virtbus: --object vm: one of domain, pool, network, agent, job, command\n',
    ]);
    const s = await cli(['--bus', 'amqp://127.0.0.1:1', 'watch', 'domain=test']);
    expect([s.code, s.stderr]).toEqual([2, "virtbus: watch takes options, not 'domain=test'\n"]);
  });
});
