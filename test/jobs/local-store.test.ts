// The local backend's record: a snapshot replaced atomically plus a journal
// appended with group commit. Everything acknowledged is there after a
// reload, a crash can only tear the journal's last line (dropped), anything
// else unreadable is refused — not silently emptied — and compaction keeps
// the state whatever moment a crash picks.
import {
  constants,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobRunners, LocalJobBackend } from '../../src/jobs';
import { JOURNAL_FILE, LocalStore, STATE_FILE, type StoredCommand } from '../../src/jobs/local/store';
import { localKit, uniq, type BackendKit } from './support/backends';

const done = (n: number): StoredCommand => ({
  state: 'done',
  command: 'domain.start',
  reply: { ok: true, result: { n } },
  at: Date.now(),
  boot: 'b1',
});

async function reload(dir: string): Promise<LocalStore> {
  const s = new LocalStore(dir);
  await s.ready();
  return s;
}

describe('local job backend state', () => {
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
    expect(readdirSync(kit.stateDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const s = await reload(kit.stateDir);
    expect([...s.jobs.keys()].sort()).toEqual([...ids].sort());
    expect([...s.jobs.values()].every((j) => j.state === 'queued')).toBe(true);
    expect(s.commands.size).toBe(10);
    await s.close();
  });

  test('refuses to start over a corrupt snapshot instead of forgetting what ran', async () => {
    const b = kit.make({ runners: new JobRunners() }) as LocalJobBackend;
    writeFileSync(b.statePath, '{"version":1,"jobs":[{"id":"x"');
    await expect(b.start()).rejects.toThrow(/not valid JSON.*move it aside/);
  });
});

describe('LocalStore: snapshot + journal', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'virtbus-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('a save appends one line with what changed; a reload replays it (sets and deletes)', async () => {
    const s = await reload(dir);
    s.commands.set('a', done(1));
    s.commands.set('b', done(2));
    await s.save();
    s.commands.delete('a');
    const c = done(3);
    s.commands.set('c', c);
    await s.save();
    await s.close();
    const lines = readFileSync(join(dir, JOURNAL_FILE), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[1]).c.map(([id, e]: [string, unknown]) => [id, e === null])).toEqual([
      ['a', true],
      ['c', false],
    ]);
    const r = await reload(dir);
    expect([...r.commands.keys()]).toEqual(['b', 'c']);
    expect(r.commands.get('c')).toEqual(c);
    await r.close();
  });

  test('saves made while a write runs share the next write (group commit)', async () => {
    const s = await reload(dir);
    const saves: Array<Promise<void>> = [];
    for (let i = 0; i < 200; i++) {
      s.commands.set(`k${i}`, done(i));
      saves.push(s.save());
    }
    await Promise.all(saves);
    await s.close();
    const lines = readFileSync(join(dir, JOURNAL_FILE), 'utf8').trim().split('\n');
    expect(lines.length).toBeLessThanOrEqual(3);
    expect((await reload(dir)).commands.size).toBe(200);
  });

  test('a job changed in place is written with the next save', async () => {
    const s = await reload(dir);
    const job = {
      id: 'j1',
      kind: 'k',
      command: 'c',
      data: {},
      state: 'queued',
    } as never as import('../../src/jobs').JobRecord;
    s.jobs.set('j1', job);
    await s.save();
    (job as { state: string }).state = 'running';
    await s.save();
    await s.close();
    expect((await reload(dir)).jobs.get('j1')?.state).toBe('running');
  });

  test('a torn last line (a crash mid-write) is dropped; a bad line before it is refused', async () => {
    const s = await reload(dir);
    s.commands.set('a', done(1));
    await s.save();
    await s.close();
    appendFileSync(join(dir, JOURNAL_FILE), '{"c":[["b",{"state":"do');
    const r = await reload(dir);
    expect([...r.commands.keys()]).toEqual(['a']);
    await r.close();
    appendFileSync(join(dir, JOURNAL_FILE), '\n{"c":[]}\n');
    await expect(reload(dir)).rejects.toThrow(/line 2 is not valid JSON.*move it aside/);
  });

  test('a long journal is compacted into a snapshot; the state is the same, and the same after a crash before the journal is emptied', async () => {
    const s = await reload(dir);
    for (let i = 0; i < 1100; i++) {
      s.commands.set(`k${i % 50}`, done(i));
      await s.save();
    }
    await s.close();
    expect(readdirSync(dir).sort()).toEqual([JOURNAL_FILE, STATE_FILE]);
    const lines = readFileSync(join(dir, JOURNAL_FILE), 'utf8').trim().split('\n').filter(Boolean);
    expect(lines.length).toBeLessThan(1000);
    const r = await reload(dir);
    expect(r.commands.size).toBe(50);
    expect(r.commands.get('k49')).toMatchObject({ reply: { result: { n: 1099 } } });
    await r.close();

    // a crash after the snapshot was written, before the journal was emptied:
    // the snapshot is the old state plus the whole journal, so replaying it again changes nothing
    const journalBefore = readFileSync(join(dir, JOURNAL_FILE), 'utf8');
    const t = await reload(dir);
    const snapshotNow = { version: 1, jobs: [], commands: [...t.commands.entries()] };
    await t.close();
    writeFileSync(join(dir, STATE_FILE), JSON.stringify(snapshotNow));
    writeFileSync(join(dir, JOURNAL_FILE), journalBefore);
    const u = await reload(dir);
    expect([...u.commands.entries()]).toEqual(snapshotNow.commands);
    await u.close();
  });

  test('the journal is appended through a file opened with O_DSYNC (each write durable by itself, no separate fdatasync)', async () => {
    const s = await reload(dir);
    const entry = done(1);
    s.commands.set('a', entry);
    await s.save();
    // this process's descriptor on the journal, and the flags it was opened with
    const journal = join(dir, JOURNAL_FILE);
    const fd = readdirSync('/proc/self/fd').find((f) => {
      try {
        return readlinkSync(`/proc/self/fd/${f}`) === journal;
      } catch {
        return false; // closed meanwhile (readdir's own descriptor)
      }
    });
    expect(fd).toBeDefined();
    const flags = parseInt(/^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1], 8);
    expect(flags & constants.O_DSYNC).toBe(constants.O_DSYNC);
    expect(flags & constants.O_APPEND).toBe(constants.O_APPEND);
    expect(readFileSync(journal, 'utf8').trim().split('\n')).toHaveLength(1);
    await s.close();
    const t = await reload(dir);
    expect(t.commands.get('a')).toEqual(entry);
    await t.close();
  });
});
