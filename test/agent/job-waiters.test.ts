// Callers of a running job's command id get its final reply when it ends;
// one that comes just after the end gets it at once (nobody else would).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobWaiters, MAX_WAITERS_PER_JOB } from '../../src/agent/job-waiters';
import type { ReplyAddress } from '../../src/agent/reply-address';
import type { ReplyData } from '../../src/contract/events';
import { JobRunners, LocalJobBackend } from '../../src/jobs';
import { Gate } from '../jobs/support/gate';

const to = (n: number): ReplyAddress => ({
  id: 'j',
  command: 'virtbus.cmd.domain.save',
  replyTo: `q${n}`,
  correlationId: 'j',
  contentType: 'application/cloudevents+json',
  echoCorrelation: false,
});

test('waiting, taken at the end, and too late to wait', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'virtbus-waiters-'));
  const gate = new Gate();
  const jobs = new LocalJobBackend({ stateDir: dir, runners: new JobRunners().register('k', gate.runner()) });
  const sent: Array<[string | undefined, ReplyData]> = [];
  const w = new JobWaiters(jobs, async (a, r) => {
    sent.push([a.replyTo, r]);
  });
  try {
    await jobs.start();
    await jobs.submit({ id: 'j', kind: 'k', command: 'domain.save', data: {} });
    await gate.whenStarted('j');
    expect(await w.wait('j', to(1))).toBe(true);
    expect(await w.wait('j', to(2))).toBe(true);
    expect(sent).toHaveLength(0);
    const ended = new Promise<void>((r) => jobs.once('completed', () => r()));
    gate.release('j', { v: 1 });
    await ended;
    expect(w.take('j').map((a) => a.replyTo)).toEqual(['q1', 'q2']);
    expect(w.take('j')).toEqual([]);
    // after the end: answered at once with the stored reply
    expect(await w.wait('j', to(3))).toBe(true);
    expect(sent).toEqual([['q3', { ok: true, result: { v: 1 } }]]);
    expect(w.take('j')).toEqual([]);
  } finally {
    gate.releaseAll();
    await jobs.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test(`at most ${MAX_WAITERS_PER_JOB} waiters per job`, async () => {
  const jobs = { get: async () => undefined } as unknown as LocalJobBackend;
  const w = new JobWaiters(jobs, async () => undefined);
  for (let i = 0; i < MAX_WAITERS_PER_JOB; i++) expect(await w.wait('x', to(i))).toBe(true);
  expect(await w.wait('x', to(999))).toBe(false);
});
