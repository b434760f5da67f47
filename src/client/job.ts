// A long-running command's handle: `result` (its one reply, at the end),
// `progress` (its job.progress events as they come; the iteration ends when
// the job does) and `cancel()` (job.cancel). The node's job events are
// listened to before the command is sent, so no progress is missed. A handle
// can also be made for a job someone else started (re-attach by its id):
// its result then comes from job.get once the job.completed event says it
// ended (or at once, when it has ended already).
import type { ReplyData } from '../contract/events';
import type { EventHub } from './event-hub';
import { VirtbusError } from './errors';
import { jobEventOf } from './job-event';

export interface JobProgress {
  /** running, … as the agent reports it */
  state: string;
  /** the runner's report: migration phase, data total/processed/remaining, dirty rate, iteration; bytes for volumes */
  progress?: unknown;
  at?: string;
}

export interface Job<R, C extends string = string> {
  /** the command id (job.get, job.cancel and `virtbus job watch` take it) */
  readonly id: string;
  readonly node: string;
  readonly command: C;
  /** the command's result when the job succeeded; rejects with VirtbusError (CANCELLED, TIMEOUT, …) */
  readonly result: Promise<R>;
  /** progress reports until the job ends */
  readonly progress: AsyncIterable<JobProgress>;
  cancel(): Promise<void>;
}

type Send = (
  command: string,
  data: unknown,
  o: { node: string; id?: string; timeoutMs?: number },
) => Promise<ReplyData>;

/** Progress reports of one job, buffered until read; ends once the job ended. */
class ProgressFeed implements AsyncIterable<JobProgress> {
  private readonly items: JobProgress[] = [];
  private ended = false;
  /** every reader waiting for the next report (each loop over `progress` reads all of them) */
  private readonly waiting = new Set<() => void>();

  push(p: JobProgress): void {
    this.items.push(p);
    this.wakeAll();
  }
  end(): void {
    this.ended = true;
    this.wakeAll();
  }
  private wakeAll(): void {
    for (const w of this.waiting) w();
    this.waiting.clear();
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<JobProgress> {
    for (let i = 0; ; i++) {
      while (i >= this.items.length) {
        if (this.ended) return;
        await new Promise<void>((r) => this.waiting.add(r));
      }
      yield this.items[i];
    }
  }
}

function outcome<R>(reply: ReplyData, command: string, id: string): R {
  if (reply.ok) return reply.result as R;
  throw new VirtbusError(reply.error, { command, id });
}

/** Calls onProgress for each progress report of the job and onEnded at its job.completed event; resolves when listening. */
function followJob(
  s: Pick<JobStart, 'hub' | 'node' | 'id'>,
  onProgress: (p: JobProgress) => void,
  onEnded: () => void,
): Promise<() => void> {
  return s.hub.listen(s.node, (ce) => {
    const e = jobEventOf(ce);
    if (e?.id !== s.id) return;
    if (e.event === 'progress')
      onProgress({
        state: e.state ?? 'running',
        progress: e.progress,
        ...(e.at !== undefined && { at: new Date(e.at).toISOString() }),
      });
    if (e.event === 'completed') onEnded();
  });
}

export interface JobStart {
  hub: EventHub;
  send: Send;
  node: string;
  command: string;
  id: string;
}

/** Sends a long-running command (its reply comes when the job ends; timeoutMs and deadline are the caller's) and follows it. */
export async function startJob<R, C extends string>(
  s: JobStart & { command: C },
  data: unknown,
  o: { timeoutMs?: number; deadline?: string } = {},
): Promise<Job<R, C>> {
  const feed = new ProgressFeed();
  const stop = await followJob(
    s,
    (p) => feed.push(p),
    () => feed.end(),
  );
  const reply = s.send(s.command, data, { ...o, node: s.node, id: s.id });
  const result = reply
    .then((r) => outcome<R>(r, s.command, s.id))
    .finally(() => {
      feed.end();
      stop();
    });
  result.catch(() => undefined); // the caller's to read; never an unhandled rejection of ours
  return handle<R, C>(s, result, feed);
}

/** Follows a job that was started elsewhere (by its command id). */
export async function attachJob(s: Omit<JobStart, 'command'>, pollMs = 5000): Promise<Job<unknown>> {
  const feed = new ProgressFeed();
  let ended!: () => void;
  const endedEvent = new Promise<void>((r) => (ended = r));
  const stop = await followJob(
    s,
    (p) => feed.push(p),
    () => ended(),
  );
  const get = async () => {
    const r = await s.send('job.get', { id: s.id }, { node: s.node });
    return outcome<{ id: string; command: string; state: string; result?: unknown; error?: unknown }>(
      r,
      'job.get',
      s.id,
    );
  };
  const first = await get().catch((e) => {
    stop();
    throw e;
  });
  const result = (async () => {
    let info = first;
    // the completed event, or a look now and then (an event lost to a reconnect)
    while (!['succeeded', 'failed', 'cancelled'].includes(info.state)) {
      await Promise.race([endedEvent, new Promise((r) => setTimeout(r, pollMs))]);
      info = await get();
    }
    if (info.state === 'succeeded') return info.result;
    const err = (info.error ?? {
      code: info.state === 'cancelled' ? 'CANCELLED' : 'INTERNAL',
      message: `job ${info.state}`,
    }) as {
      code: string;
      message: string;
    };
    throw new VirtbusError(err, { command: info.command, id: s.id });
  })().finally(() => {
    feed.end();
    stop();
  });
  result.catch(() => undefined);
  return handle({ ...s, command: first.command }, result, feed);
}

function handle<R, C extends string = string>(
  s: JobStart & { command: C },
  result: Promise<R>,
  feed: ProgressFeed,
): Job<R, C> {
  return {
    id: s.id,
    node: s.node,
    command: s.command,
    result,
    progress: feed,
    async cancel() {
      const r = await s.send('job.cancel', { id: s.id }, { node: s.node });
      outcome(r, 'job.cancel', s.id);
    },
  };
}
