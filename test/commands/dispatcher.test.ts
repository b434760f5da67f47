// The dispatcher's one path on libvirt's test driver (in process): a known id
// first, then the refusals in their documented order (never recorded), then
// a job or one run; a duplicate of a running command gets the first's final
// reply. A real local job backend with a runner the test holds stands in for
// a long job.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandDispatcher, isDeferred, type DispatcherOptions } from '../../src/commands/dispatcher';
import type { ReplyData } from '../../src/contract/events';
import { JobRunners, LocalJobBackend } from '../../src/jobs';
import { Connection } from '../../src/libvirt';
import { Gate } from '../jobs/support/gate';

let conn: Connection;
beforeAll(async () => {
  conn = await Connection.open('test:///default');
});
afterAll(async () => {
  await conn?.close();
});

const agent = { node: 'n1', bootId: 'b1', version: '0', status: () => ({}) };
const make = (o: DispatcherOptions = {}, deps: Partial<ConstructorParameters<typeof CommandDispatcher>[0]> = {}) =>
  new CommandDispatcher({ connection: () => conn, agent, ...deps }, o);
const code = (r: unknown) => (r as ReplyData & { ok: false }).error?.code;
const past = new Date(Date.now() - 1000).toISOString();

describe('order of refusals (none of them recorded)', () => {
  test.each([
    ['unknown command', { name: 'domain.frobnicate', data: {} }, {}, 'UNKNOWN_COMMAND'],
    [
      'read-only before schema: a mutating command is FORBIDDEN whatever its arguments',
      { name: 'domain.destroy', data: { nonsense: 1 } },
      { readOnly: true },
      'FORBIDDEN',
    ],
    ['schema', { name: 'domain.get', data: { domain: 42 } }, {}, 'BAD_REQUEST'],
    ['schema before deadline', { name: 'domain.get', data: {}, deadline: past }, {}, 'BAD_REQUEST'],
    ['deadline', { name: 'domain.get', data: { domain: 'test' }, deadline: past }, {}, 'EXPIRED'],
    [
      'a long-running command without a job system',
      { name: 'domain.save', data: { domain: 'test', path: 'x' } },
      {},
      'UNSUPPORTED',
    ],
  ] as const)('%s', async (_what, cmd, o, expected) => {
    const d = make(o);
    expect(code(await d.execute({ id: 'r1', ...cmd }))).toBe(expected);
    // not recorded: the same id, fixed, runs
    const fixed = await d.execute({ id: 'r1', name: 'domain.get', data: { domain: 'test' } });
    expect(fixed).toMatchObject({ ok: true, result: { name: 'test' } });
  });

  test('a known id is answered from the record before any refusal (a redelivery after its deadline gets the first reply)', async () => {
    const d = make();
    const deadline = new Date(Date.now() + 60_000).toISOString();
    const first = await d.execute({ id: 'k1', name: 'domain.get', data: { domain: 'test' }, deadline });
    expect(first).toMatchObject({ ok: true });
    expect(await d.execute({ id: 'k1', name: 'domain.get', data: { domain: 'test' }, deadline: past })).toEqual(first);
  });
});

describe("a duplicate while the first still runs gets the first's final reply", () => {
  test('short command: one run, the same reply for both', async () => {
    let open!: (ok: boolean) => void;
    const gate = new Promise<boolean>((r) => {
      open = r;
    });
    let waits = 0;
    const d = make(
      {},
      {
        libvirtReady: () => {
          waits++;
          return gate;
        },
      },
    );
    const a = d.execute({ id: 'dup-1', name: 'domain.suspend', data: { domain: 'test' } });
    const b = d.execute({ id: 'dup-1', name: 'domain.suspend', data: { domain: 'test' } });
    await new Promise((r) => setTimeout(r, 50));
    open(true);
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra).toMatchObject({ ok: true, result: { state: 'paused' } });
    expect(rb).toEqual(ra);
    expect(waits).toBe(1); // ran once
    expect(await (await conn.domain('test')).state()).toMatchObject({ state: 'paused' });
    await (await conn.domain('test')).resume();
  });

  test("job: the duplicate is deferred to the job's end (the agent replies to both then)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'virtbus-dispatcher-'));
    const gate = new Gate();
    const jobs = new LocalJobBackend({
      stateDir: dir,
      runners: new JobRunners().register('domain.save', gate.runner()),
    });
    try {
      await jobs.start();
      const d = make({}, { jobs });
      const cmd = { id: 'job-1', name: 'domain.save', data: { domain: 'test', path: 'x.save' } };
      const first = await d.execute(cmd);
      expect(isDeferred(first) && !first.duplicate).toBe(true);
      await gate.whenStarted('job-1');
      const again = await d.execute(cmd);
      expect(again).toMatchObject({ deferred: true, duplicate: true, job: { id: 'job-1', state: 'running' } });
      gate.release('job-1', { done: true });
      await new Promise<void>((r) => jobs.once('completed', () => r()));
      // once it ended: the stored reply, at once
      expect(await d.execute(cmd)).toMatchObject({ ok: true, result: { done: true } });
    } finally {
      gate.releaseAll();
      await jobs.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('a command that never reached libvirt (UNAVAILABLE) is not recorded: a re-send runs', async () => {
  let ready = false;
  const d = make({ libvirtWaitMs: 10 }, { libvirtReady: async () => ready });
  expect(code(await d.execute({ id: 'u1', name: 'domain.get', data: { domain: 'test' } }))).toBe('UNAVAILABLE');
  ready = true;
  expect(await d.execute({ id: 'u1', name: 'domain.get', data: { domain: 'test' } })).toMatchObject({ ok: true });
});
