// Long-running commands from the CLI. The node's job events are subscribed
// to before the command is sent (a job.started published while we were
// still subscribing would be lost otherwise) and filtered by the command id,
// which is the job id. Waiting: the progress is drawn until the one reply.
// --no-wait: the id is printed once the agent has the job. `job watch ID`:
// its state now, then its progress until it ends.
import { randomUUID } from 'node:crypto';
import type { VirtbusClient } from '../client/types';
import { NO_LIMIT_MS } from '../client/sdk';
import type { ReplyData } from '../contract/events';
import { errorLine, formatReply } from './format';
import { ProgressView, jobEventOf, type JobEvent } from './progress';

/** Where the CLI writes: stdout has the result, stderr the progress and errors. */
export interface Out {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface JobIo {
  stdout: Out;
  stderr: Out;
  /** --json: the reply (or job record) as JSON on stdout; no progress lines unless on a terminal */
  json: boolean;
  /** Ctrl-C: stop following; the job goes on in the agent */
  interrupted: Promise<void>;
}

/** Exit code after Ctrl-C (128 + SIGINT), as shells report it. */
export const INTERRUPTED = 130;

const DETACHED = Symbol('detached');

/** Resolves with DETACHED on Ctrl-C, so a wait can race it. */
const detach = (io: JobIo): Promise<typeof DETACHED> => io.interrupted.then(() => DETACHED);

function detached(io: JobIo, view: ProgressView | undefined, command: string, id: string, node: string): number {
  if (view) io.stderr.write(view.clear());
  io.stderr.write(`virtbus: ${command}: detached; job ${id} goes on: virtbus --node ${node} job watch ${id}\n`);
  return INTERRUPTED;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

function lostConnection(client: VirtbusClient): Promise<never> {
  return client.lost.then(() => {
    throw new Error('the connection to the broker was lost');
  });
}

/** Calls onEvent for each job event of this id (subscribed when it resolves). */
async function followJob(client: VirtbusClient, node: string, id: string, onEvent: (e: JobEvent) => void) {
  await client.watch((ce) => {
    const e = jobEventOf(ce);
    if (e && e.id === id) onEvent(e);
  }, node);
}

const progressView = (io: JobIo, label: string): ProgressView | undefined =>
  io.stderr.isTTY || !io.json
    ? new ProgressView({ tty: Boolean(io.stderr.isTTY), columns: io.stderr.columns, label })
    : undefined;

/** Prints a reply the usual way: the result on stdout, an error as one line on stderr. 0 ok, 1 error. */
export function printReply(command: string, reply: ReplyData, io: JobIo): number {
  if (io.json) io.stdout.write(`${JSON.stringify(reply)}\n`);
  else if (reply.ok) io.stdout.write(`${formatReply(reply)}\n`);
  else io.stderr.write(`virtbus: ${errorLine(command, reply.error)}\n`);
  return reply.ok ? 0 : 1;
}

/** Sends a long-running command and shows its progress until its reply. */
export async function runJob(
  client: VirtbusClient,
  o: { node: string; command: string; data: unknown; timeoutMs?: number; id?: string },
  io: JobIo,
): Promise<number> {
  const id = o.id ?? randomUUID();
  const view = progressView(io, o.command);
  let ended = false;
  await followJob(client, o.node, id, (e) => {
    if (view && !ended) io.stderr.write(view.render(e));
  });
  const reply = await Promise.race([
    client.call(o.command, o.data, { id, timeoutMs: o.timeoutMs ?? NO_LIMIT_MS }),
    lostConnection(client),
    detach(io),
  ]);
  ended = true;
  if (reply === DETACHED) return detached(io, view, o.command, id, o.node);
  if (view) io.stderr.write(view.clear());
  return printReply(o.command, reply, io);
}

/**
 * --no-wait: sends the command and returns once the agent has the job — its
 * job.started (or any later) event came, or job.get finds it. A command
 * that answers first (an error, or a vol.create small enough to be no job)
 * is printed as its reply.
 */
export async function startJob(
  client: VirtbusClient,
  o: { node: string; command: string; data: unknown; timeoutMs?: number; id?: string },
  io: JobIo,
): Promise<number> {
  const id = o.id ?? randomUUID();
  let seen!: () => void;
  const accepted = new Promise<'accepted'>((resolve) => {
    seen = () => resolve('accepted');
  });
  await followJob(client, o.node, id, () => seen());
  const reply = client.call(o.command, o.data, { id, timeoutMs: NO_LIMIT_MS });
  reply.catch(() => undefined); // we may leave before it comes
  let polling = true;
  const recorded = (async (): Promise<'accepted'> => {
    while (polling) {
      await sleep(500);
      if (!polling) break;
      const r = await client.call('job.get', { id }, { timeoutMs: 10_000 }).catch(() => undefined);
      if (r?.ok) return 'accepted';
    }
    return new Promise<never>(() => undefined);
  })();
  const limitMs = o.timeoutMs ?? 30_000;
  try {
    const first = await Promise.race([
      accepted,
      recorded,
      reply,
      lostConnection(client),
      sleep(limitMs).then(() => {
        throw new Error(`node ${o.node} did not take the job within ${limitMs / 1000} s`);
      }),
    ]);
    if (first !== 'accepted') return printReply(o.command, first, io);
  } finally {
    polling = false;
  }
  if (io.json) io.stdout.write(`${JSON.stringify({ id, node: o.node, command: o.command })}\n`);
  else io.stdout.write(`${id}\n`);
  if (io.stderr.isTTY && !io.json)
    io.stderr.write(`virtbus: ${o.command} runs as job ${id}; follow it: virtbus --node ${o.node} job watch ${id}\n`);
  return 0;
}

interface JobInfo {
  id: string;
  command: string;
  state: string;
  progress?: unknown;
  result?: unknown;
  error?: { code: string; message: string; libvirt?: { name: string } };
  startedAt?: string;
  createdAt?: string;
  finishedAt?: string;
}

function printOutcome(info: JobInfo, io: JobIo): number {
  const ok = info.state === 'succeeded';
  if (io.json) io.stdout.write(`${JSON.stringify(info)}\n`);
  else if (ok) io.stdout.write(`${formatReply({ ok: true, result: info.result })}\n`);
  else {
    const error = info.error ?? { code: info.state.toUpperCase(), message: `the job ${info.state}` };
    io.stderr.write(`virtbus: ${errorLine(`${info.command} (job ${info.id})`, error)}\n`);
  }
  return ok ? 0 : 1;
}

/** `virtbus job watch ID`: the job's state, then its progress until it ends; 0 succeeded, 1 failed or cancelled. */
export async function watchJob(
  client: VirtbusClient,
  o: { node: string; id: string; timeoutMs?: number },
  io: JobIo,
): Promise<number> {
  const get = async (): Promise<ReplyData> =>
    Promise.race([client.call('job.get', { id: o.id }, { timeoutMs: o.timeoutMs ?? 30_000 }), lostConnection(client)]);
  let ended!: () => void;
  const completed = new Promise<void>((resolve) => {
    ended = resolve;
  });
  // the bar is labelled with the job's command, known once job.get answers: events before that are not drawn
  const shown: { view?: ProgressView; done?: boolean } = {};
  await followJob(client, o.node, o.id, (e) => {
    if (shown.view && !shown.done) io.stderr.write(shown.view.render(e));
    if (e.event === 'completed') ended();
  });
  const first = await get();
  if (!first.ok) return printReply('job watch', first, io);
  let info = first.result as JobInfo;
  if (!io.json) {
    const when = TERMINAL.has(info.state)
      ? info.finishedAt && ` at ${info.finishedAt}`
      : (info.startedAt ?? info.createdAt) && ` since ${info.startedAt ?? info.createdAt}`;
    io.stdout.write(`job ${info.id}: ${info.command} ${info.state}${when || ''}\n`);
  }
  const view = (shown.view = progressView(io, info.command));
  if (!TERMINAL.has(info.state) && view && info.progress !== undefined)
    io.stderr.write(view.render({ event: 'progress', id: o.id, progress: info.progress }));
  // the completed event ends the wait; a slow poll covers an agent that restarted and reconciled the job
  while (!TERMINAL.has(info.state)) {
    if ((await Promise.race([completed, sleep(5000), detach(io)])) === DETACHED) {
      shown.done = true;
      return detached(io, view, 'job watch', o.id, o.node);
    }
    const r = await get();
    if (!r.ok) return printReply('job watch', r, io);
    info = r.result as JobInfo;
  }
  shown.done = true;
  if (view) io.stderr.write(view.clear());
  return printOutcome(info, io);
}
