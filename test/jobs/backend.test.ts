// Job backend semantics, the same for BullMQ on Redis and the local file:
// dedup by command id, progress, replies, per-kind concurrency, cancel,
// retention, and what survives an agent restart.
import type { ReplyData } from '../../src/contract/events';
import { CommandError } from '../../src/errors';
import { JobRunners, type JobBackend, type JobRecord } from '../../src/jobs';
import { eventually } from '../helpers/events';
import { KITS, requireRedis, uniq, type BackendKit } from './support/backends';
import { Gate } from './support/gate';

const completions = (b: JobBackend) => {
  const seen = new Map<string, ReplyData>();
  b.on('completed', (id, reply) => seen.set(id, reply));
  return {
    seen,
    reply: (id: string) => eventually(async () => seen.get(id), `job ${id} to complete`, 15000, 50),
  };
};

beforeAll(requireRedis);

describe.each(KITS)('%s job backend', (_name, makeKit) => {
  let kit: BackendKit;
  let gate: Gate;
  beforeEach(() => {
    kit = makeKit();
    gate = new Gate();
  });
  afterEach(async () => {
    gate.releaseAll();
    await kit.cleanup();
  });

  test('a second submit with the same id returns the existing job and runs nothing', async () => {
    let runs = 0;
    const runners = new JobRunners().register('quick', async () => {
      runs++;
      return { done: true };
    });
    const b = kit.make({ runners });
    const done = completions(b);
    await b.start();
    const id = uniq('dup');
    const [x, y] = await Promise.all([
      b.submit({ id, kind: 'quick', command: 'test.quick', data: { n: 1 } }),
      b.submit({ id, kind: 'quick', command: 'test.quick', data: { n: 2 } }),
    ]);
    expect([x.created, y.created].sort()).toEqual([false, true]);
    expect(x.record.id).toBe(id);
    expect(y.record.id).toBe(id);
    expect(await done.reply(id)).toEqual({ ok: true, result: { done: true } });
    const again = await b.submit({ id, kind: 'quick', command: 'test.quick', data: { n: 3 } });
    expect(again.created).toBe(false);
    expect(again.record).toMatchObject({ id, state: 'succeeded', reply: { ok: true, result: { done: true } } });
    expect(again.record.data).toEqual(x.created ? { n: 1 } : { n: 2 });
    expect(runs).toBe(1);
  });

  test('any command id is a job id: numeric-looking, with colons or percent signs', async () => {
    const runners = new JobRunners().register('quick', async (ctx) => ({ id: ctx.id }));
    const b = kit.make({ runners });
    const done = completions(b);
    await b.start();
    const base = uniq('odd');
    const ids = [String(Date.now()), `${base}:a`, `${base}%3Aa`, `${base}%a`];
    for (const id of ids)
      expect((await b.submit({ id, kind: 'quick', command: 'test.quick', data: {} })).created).toBe(true);
    for (const id of ids) expect(await done.reply(id)).toEqual({ ok: true, result: { id } });
    for (const id of ids) expect((await b.get(id))!.id).toBe(id);
    await expect(
      b.submit({ id: 'x'.repeat(129), kind: 'quick', command: 'test.quick', data: {} }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(
      b.submit({ id: uniq('kind'), kind: 'nosuch', command: 'test.nosuch', data: {} }),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  test('progress is reported and stored; the outcome is a contract reply, ok or not', async () => {
    const runners = new JobRunners()
      .register('steps', async (ctx) => {
        await ctx.progress({ step: 1 });
        await ctx.progress({ step: 2 });
        return { answer: 42 };
      })
      .register('refused', async () => {
        throw new CommandError('CONFLICT', 'the guest is in the wrong state');
      });
    const b = kit.make({ runners });
    const progress: Array<[string, unknown]> = [];
    b.on('progress', (id, p) => progress.push([id, p]));
    const done = completions(b);
    await b.start();
    const ok = uniq('ok');
    const bad = uniq('bad');
    await b.submit({ id: ok, kind: 'steps', command: 'test.steps', data: {} });
    await b.submit({ id: bad, kind: 'refused', command: 'test.refused', data: {} });

    expect(await done.reply(ok)).toEqual({ ok: true, result: { answer: 42 } });
    expect(progress.filter(([id]) => id === ok).map(([, p]) => p)).toEqual([{ step: 1 }, { step: 2 }]);
    expect(await b.get(ok)).toMatchObject({ state: 'succeeded', progress: { step: 2 }, command: 'test.steps' });
    expect(await done.reply(bad)).toEqual({
      ok: false,
      error: { code: 'CONFLICT', message: 'the guest is in the wrong state' },
    });
    const failed = (await b.get(bad))!;
    expect(failed.state).toBe('failed');
    expect(failed.finishedAt).toBeDefined();
    // The job's outcome is also its command's idempotency entry.
    expect(await b.idempotency.get(ok)).toMatchObject({ state: 'done', command: 'test.steps', reply: { ok: true } });
    expect((await b.list()).map((r) => r.id).sort()).toEqual([bad, ok].sort());
    expect((await b.list({ states: ['failed'] })).map((r) => r.id)).toEqual([bad]);
  });

  test('never runs more jobs of a kind than its limit; other kinds are not held up', async () => {
    const runners = new JobRunners().register('slow', gate.runner()).register('other', gate.runner());
    const b = kit.make({ runners, concurrency: { slow: 2 } });
    const done = completions(b);
    await b.start();
    const slow = [uniq('slow'), uniq('slow'), uniq('slow')];
    for (const id of slow) await b.submit({ id, kind: 'slow', command: 'test.slow', data: {} });
    await gate.whenStarted(slow[0]);
    await gate.whenStarted(slow[1]);
    await new Promise((r) => setTimeout(r, 300)); // room for a third to start, were the limit broken
    expect(gate.running).toBe(2);
    expect((await b.get(slow[2]))!.state).toBe('queued');

    const other = uniq('other');
    await b.submit({ id: other, kind: 'other', command: 'test.other', data: {} });
    await gate.whenStarted(other);
    expect(gate.running).toBe(3);
    gate.release(other);

    gate.release(slow[0]);
    await gate.whenStarted(slow[2]);
    gate.release(slow[1]);
    gate.release(slow[2]);
    for (const id of slow) expect((await done.reply(id)).ok).toBe(true);
    expect(gate.maxRunning).toBe(3); // two slow + the other one, never three slow
  });

  test('cancel stops a running job and a queued one with CANCELLED', async () => {
    const runners = new JobRunners().register('slow', gate.runner());
    const b = kit.make({ runners, concurrency: { slow: 1 } });
    const done = completions(b);
    await b.start();
    const [running, queued] = [uniq('run'), uniq('queued')];
    await b.submit({ id: running, kind: 'slow', command: 'test.slow', data: {} });
    await b.submit({ id: queued, kind: 'slow', command: 'test.slow', data: {} });
    await gate.whenStarted(running);
    await eventually(async () => (await b.get(running))!.state === 'running', 'the first job to be running');

    expect(await b.cancel(queued)).toMatchObject({ id: queued, cancelRequested: true });
    expect(await done.reply(queued)).toMatchObject({ ok: false, error: { code: 'CANCELLED' } });
    expect(await b.cancel(running)).toMatchObject({ id: running, cancelRequested: true });
    expect(await done.reply(running)).toMatchObject({ ok: false, error: { code: 'CANCELLED' } });

    expect(gate.started).toEqual([running]); // the queued one never ran
    expect((await b.get(queued))!.state).toBe('cancelled');
    expect((await b.get(running))!.state).toBe('cancelled');
    expect(await b.cancel(uniq('nosuch'))).toBeUndefined();
    // Cancelling a finished job changes nothing.
    expect((await b.cancel(running))!.state).toBe('cancelled');
  });

  test('finished jobs are removed after the retention period', async () => {
    const runners = new JobRunners().register('quick', async () => ({}));
    const b = kit.make({ runners, retentionMs: 500, sweepIntervalMs: 200 });
    const done = completions(b);
    await b.start();
    const id = uniq('old');
    await b.submit({ id, kind: 'quick', command: 'test.quick', data: {} });
    await done.reply(id);
    expect(await b.get(id)).toBeDefined();
    await eventually(async () => (await b.get(id)) === undefined, `job ${id} to be removed`, 10000, 100);
    // Past retention the id is free again.
    expect((await b.submit({ id, kind: 'quick', command: 'test.quick', data: {} })).created).toBe(true);
  });

  test('outcomes and jobs survive a restart: answered, reconciled, never run twice', async () => {
    const before = kit.make({
      runners: new JobRunners().register('slow', gate.runner()).register('quick', async () => ({ v: 1 })),
      concurrency: { slow: 1 },
    });
    const beforeDone = completions(before);
    await before.start();
    const [finished, stillRunning, notStarted, cmdDone, cmdRunning] = [
      uniq('fin'),
      uniq('run'),
      uniq('wait'),
      uniq('cmd-done'),
      uniq('cmd-run'),
    ];

    // A plain (non-job) mutating command that finished, and one the agent died in.
    expect(await before.idempotency.begin(cmdDone, 'domain.start')).toBe('new');
    const startReply: ReplyData = { ok: true, result: { name: 'vm1', state: 'running' } };
    await before.idempotency.finish(cmdDone, 'domain.start', startReply);
    expect(await before.idempotency.begin(cmdRunning, 'domain.shutdown')).toBe('new');
    expect(await before.idempotency.begin(cmdRunning, 'domain.shutdown')).toMatchObject({
      state: 'running',
      command: 'domain.shutdown',
    });

    await before.submit({ id: finished, kind: 'quick', command: 'test.quick', data: {} });
    await beforeDone.reply(finished);
    await before.submit({ id: stillRunning, kind: 'slow', command: 'test.slow', data: {} });
    await before.submit({ id: notStarted, kind: 'slow', command: 'test.slow', data: {} });
    await gate.whenStarted(stillRunning);
    await eventually(async () => (await before.get(stillRunning))!.state === 'running', 'the slow job to be running');
    await before.close(); // the agent goes away with a job running and one queued

    const after = new Gate();
    const b = kit.make({
      runners: new JobRunners().register('slow', after.runner()).register('quick', async () => ({ v: 2 })),
      concurrency: { slow: 1 },
    });
    const done = completions(b);
    const report = await b.start();
    expect(report).toEqual({ recovered: [stillRunning], requeued: [notStarted], abandonedCommands: [cmdRunning] });

    expect(await b.idempotency.begin(cmdDone, 'domain.start')).toMatchObject({ state: 'done', reply: startReply });
    const lost = await b.idempotency.begin(cmdRunning, 'domain.shutdown');
    expect(lost).toMatchObject({ state: 'done', reply: { ok: false, error: { code: 'INTERNAL' } } });
    expect(lost !== 'new' && lost.state === 'done' && !lost.reply.ok && lost.reply.error.message).toMatch(
      /agent stopped.*not run again/,
    );

    const dup = await b.submit({ id: finished, kind: 'quick', command: 'test.quick', data: {} });
    expect(dup).toMatchObject({
      created: false,
      record: { state: 'succeeded', reply: { ok: true, result: { v: 1 } } },
    });

    // The started job has no recover(): failed with a clear message, not run again.
    const reply = await done.reply(stillRunning);
    expect(reply).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(!reply.ok && reply.error.message).toMatch(/agent stopped while command .* was running.*not run again/);
    expect((await b.get(stillRunning)) as JobRecord).toMatchObject({ state: 'failed', recovered: true });
    // The one that never started runs now.
    await after.whenStarted(notStarted);
    after.release(notStarted);
    expect((await done.reply(notStarted)).ok).toBe(true);
    expect(after.started).toEqual([notStarted]);

    // Replies the old agent never confirmed are still there to send.
    const owed = (await b.unreplied()).map((r) => r.id).sort();
    expect(owed).toEqual([finished, stillRunning, notStarted].sort());
    await b.markReplied(finished);
    expect((await b.unreplied()).map((r) => r.id)).not.toContain(finished);
    expect((await b.get(finished))!.repliedAt).toBeDefined();
  });

  test('a started job whose runner can recover is recovered, with its last progress', async () => {
    const runners = new JobRunners().register('slow', {
      run: async (ctx) => {
        await ctx.progress({ at: 'half' });
        return new Promise(() => undefined);
      },
    });
    const a = kit.make({ runners });
    await a.start();
    const id = uniq('rec');
    await a.submit({ id, kind: 'slow', command: 'test.slow', data: { x: 1 } });
    await eventually(
      async () => ((await a.get(id))!.progress as { at?: string } | undefined)?.at === 'half',
      'progress to be stored',
    );
    await a.close();

    let runs = 0;
    const b = kit.make({
      runners: new JobRunners().register('slow', {
        run: async () => {
          runs++;
          return {};
        },
        recover: async (ctx) => ({ recovered: true, last: ctx.lastProgress, data: ctx.data }),
      }),
    });
    const done = completions(b);
    await b.start();
    expect(await done.reply(id)).toEqual({
      ok: true,
      result: { recovered: true, last: { at: 'half' }, data: { x: 1 } },
    });
    expect(runs).toBe(0);
  });
});
