// The local backend's file: complete after every change (temp file + rename),
// never left half-written, and refused — not silently emptied — when unreadable.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { JobRunners, LocalJobBackend } from '../../src/jobs';
import { localKit, uniq, type BackendKit } from './support/backends';

describe('local job backend state file', () => {
  let kit: BackendKit;
  beforeEach(() => {
    kit = localKit();
  });
  afterEach(() => kit.cleanup());

  test('holds every job after a burst of concurrent submits, with no temp files left', async () => {
    const runners = new JobRunners().register('never', () => new Promise(() => undefined));
    const b = kit.make({ runners }) as LocalJobBackend;
    const ids = Array.from({ length: 50 }, () => uniq('burst'));
    await Promise.all(ids.map((id) => b.submit({ id, kind: 'never', command: 'test.never', data: { id } })));
    await Promise.all(ids.slice(0, 10).map((id) => b.idempotency.begin(`cmd-${id}`, 'domain.start')));
    expect(readdirSync(kit.stateDir)).toEqual(['jobs.json']);
    const doc = JSON.parse(readFileSync(b.statePath, 'utf8')) as {
      jobs: Array<{ id: string; state: string }>;
      commands: unknown[];
    };
    expect(doc.jobs.map((j) => j.id).sort()).toEqual([...ids].sort());
    expect(doc.jobs.every((j) => j.state === 'queued')).toBe(true);
    expect(doc.commands).toHaveLength(10);
  });

  test('refuses to start over a corrupt file instead of forgetting what ran', async () => {
    const b = kit.make({ runners: new JobRunners() }) as LocalJobBackend;
    writeFileSync(b.statePath, '{"version":1,"jobs":[{"id":"x"');
    await expect(b.start()).rejects.toThrow(/not valid JSON.*move it aside/);
  });
});
