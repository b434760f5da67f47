// The recovery core with fake sessions: every transition, every event, and
// that nothing outlives close().
import { Recovering, type Session } from '../../src/reconnect/recovering';

class FakeSession implements Session {
  readonly lost: Promise<string>;
  loseWith!: (reason: string) => void;
  closed = 0;
  abandoned: string[] = [];
  constructor(readonly n: number) {
    this.lost = new Promise((r) => {
      this.loseWith = r;
    });
  }
  async close(): Promise<void> {
    this.closed++;
    this.loseWith('closed');
  }
  abandon(reason: string): void {
    this.abandoned.push(reason);
    this.loseWith(reason);
  }
}

const FAST = { initialMs: 1, maxMs: 5 };

function harness(
  o: { failFirst?: number; setupFails?: number; fatal?: (e: unknown) => boolean; discard?: 'close' | 'abandon' } = {},
) {
  const sessions: FakeSession[] = [];
  const log: string[] = [];
  let opens = 0;
  let setups = 0;
  const r = new Recovering<FakeSession>({
    name: 'fake',
    backoff: FAST,
    open: async (attempt) => {
      opens++;
      if (opens <= (o.failFirst ?? 0)) throw new Error(`refused ${opens}`);
      const s = new FakeSession(opens);
      sessions.push(s);
      log.push(`open#${s.n} attempt=${attempt}`);
      return s;
    },
    setup: async (s) => {
      setups++;
      if (setups <= (o.setupFails ?? 0)) throw new Error(`setup failed on #${s.n}`);
    },
    detach: (s) => log.push(`detach#${s.n}`),
    isFatal: o.fatal,
    discard: o.discard,
  });
  r.on('connected', (s, i) => log.push(`connected#${s.n} reconnect=${i.reconnect}`));
  r.on('disconnected', (i) => log.push(`disconnected ${i.reason}`));
  r.on('connect-failed', (e, i) => log.push(`failed ${(e as Error).message} attempt=${i.attempt}`));
  r.on('gave-up', (e) => log.push(`gave-up ${e.message}`));
  return { r, sessions, log };
}

const until = async (cond: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 2));
  }
};

test('retries the first connect with backoff, then emits connected once', async () => {
  const { r, log } = harness({ failFirst: 2 });
  const s = await r.start();
  expect(s.n).toBe(3);
  expect(r.session).toBe(s);
  expect(log).toEqual([
    'failed refused 1 attempt=1',
    'failed refused 2 attempt=2',
    'open#3 attempt=3',
    'connected#3 reconnect=false',
  ]);
  await r.close();
});

test('a session whose set-up fails is discarded (closed by default, abandoned if asked) and the next attempt follows', async () => {
  for (const discard of ['close', 'abandon'] as const) {
    const { r, sessions, log } = harness({ setupFails: 1, discard });
    await r.start();
    expect(log.slice(0, 3)).toEqual(['open#1 attempt=1', 'detach#1', 'failed setup failed on #1 attempt=1']);
    if (discard === 'close') expect(sessions[0].closed).toBe(1);
    else expect(sessions[0].abandoned).toEqual(['set-up failed: setup failed on #1']);
    expect(r.session?.n).toBe(2);
    await r.close();
  }
});

test('a lost session is detached, reported and replaced; downMs and reconnect are told', async () => {
  const { r, sessions, log } = harness();
  await r.start();
  sessions[0].loseWith('broker went away');
  await until(() => r.session?.n === 2);
  expect(log).toEqual([
    'open#1 attempt=1',
    'connected#1 reconnect=false',
    'detach#1',
    'disconnected broker went away',
    'open#2 attempt=1',
    'connected#2 reconnect=true',
  ]);
  expect(sessions[0].abandoned).toEqual(['broker went away']);
  await r.close();
});

test('a fatal error stops retrying and emits gave-up', async () => {
  const { r, log } = harness({ failFirst: 5, fatal: (e) => (e as Error).message === 'refused 2' });
  await expect(r.start()).rejects.toThrow('refused 2');
  expect(log).toEqual(['failed refused 1 attempt=1', 'gave-up refused 2']);
  await r.close();
});

test('close() is idempotent, drains on the open session first, then closes it', async () => {
  const { r, sessions, log } = harness();
  await r.start();
  const drained: Array<number | undefined> = [];
  const a = r.close(async (s) => {
    drained.push(s?.n);
    log.push('drained');
  });
  const b = r.close(async () => {
    drained.push(-1);
  });
  expect(a).toBe(b);
  await a;
  expect(drained).toEqual([1]);
  expect(sessions[0].closed).toBe(1);
  expect(r.session).toBeUndefined();
  expect(log.slice(-2)).toEqual(['drained', 'detach#1']);
  await expect(r.start()).rejects.toThrow('fake closed');
});

test('close() during a retry loop ends it: no session outlives close()', async () => {
  const { r, sessions } = harness({ failFirst: 1_000_000 });
  const started = r.start();
  started.catch(() => undefined);
  await new Promise((res) => setTimeout(res, 20));
  await r.close();
  await expect(started).rejects.toThrow('fake closed');
  expect(sessions).toHaveLength(0);
});

test('close() while a set-up step waits: the step is cut short and the half-made session closed', async () => {
  let release!: () => void;
  const gate = new Promise<void>((res) => {
    release = res;
  });
  const sessions: FakeSession[] = [];
  const r = new Recovering<FakeSession>({
    name: 'fake',
    open: async () => {
      const s = new FakeSession(sessions.length + 1);
      sessions.push(s);
      return s;
    },
    setup: (_s, ctx) => ctx.step(gate, 'beforeConsume'),
  });
  const started = r.start();
  started.catch(() => undefined);
  await until(() => sessions.length === 1);
  await r.close();
  await expect(started).rejects.toThrow('fake closed');
  expect(sessions[0].closed).toBe(1);
  release();
});

test('a step is cut short when its session is lost, and the next session is set up instead', async () => {
  const sessions: FakeSession[] = [];
  const failures: string[] = [];
  const r = new Recovering<FakeSession>({
    name: 'fake',
    backoff: FAST,
    open: async () => {
      const s = new FakeSession(sessions.length + 1);
      sessions.push(s);
      return s;
    },
    // the first session's step never ends on its own: it waits for a reconnect
    setup: (s, ctx) => ctx.step(s.n === 1 ? new Promise<void>(() => undefined) : Promise.resolve(), 'snapshot'),
  });
  r.on('connect-failed', (e) => failures.push((e as Error).message));
  const started = r.start();
  await until(() => sessions.length === 1);
  sessions[0].loseWith('socket closed');
  expect((await started).n).toBe(2);
  expect(failures).toEqual(['fake connection lost during snapshot: socket closed']);
  await r.close();
});
