// What the agent does as a job moves: publish its started / progress /
// completed events, then send its one reply to the original caller (and to
// callers of the same command id that waited for it), then mark it
// answered — and, at start, answer what the last run never answered.
import { COMMAND_PREFIX } from '../contract/envelope';
import type { ReplyData } from '../contract/events';
import type { EventPublisher } from '../events/publisher';
import type { JobBackend, JobRecord } from '../jobs';
import type { Logger } from '../log';
import type { JobWaiters } from './job-waiters';
import type { ReplyAddress } from './reply-address';
import { traceFromRecord, type TraceContext } from '../ops/trace';

/** the trace context kept with a job's reply address (undefined: none, or not well-formed) */
function traceOfJob(r: JobRecord | undefined): TraceContext | undefined {
  return traceFromRecord((r?.meta as { reply?: { trace?: unknown } } | undefined)?.reply?.trace);
}

export interface JobRepliesDeps {
  node: string;
  jobs: JobBackend;
  publisher: EventPublisher;
  log: Logger;
  /** sends a reply to an address a job kept */
  replyLater: (to: ReplyAddress, reply: ReplyData) => Promise<void>;
  waiters?: JobWaiters;
}

export class JobReplies {
  constructor(private readonly d: JobRepliesDeps) {
    const { jobs, log } = d;
    jobs.on('started', (id) => void this.event(id, 'started'));
    jobs.on('progress', (id, progress) => void this.event(id, 'progress', progress));
    jobs.on('completed', (id, reply, record) => void this.completed(id, reply, record));
    jobs.on('warning', (w) => log.warn({ code: w.code }, w.message));
    jobs.on('error', (err) => log.error({ err }, 'job system error'));
    jobs.on('store-disconnected', (role, i) => log.warn({ role, ...i }, 'job store connection lost'));
    jobs.on('store-connected', (role, i) => {
      if (i.reconnect) log.info({ role, ...i }, 'job store reconnected');
    });
  }

  /** Restart safety: reconcile what the last run left running, then answer what it never answered. */
  async start(): Promise<void> {
    const report = await this.d.jobs.start();
    this.d.log.info(report, 'jobs reconciled');
    for (const r of await this.d.jobs.unreplied()) if (r.reply) await this.completed(r.id, r.reply, r);
  }

  private async event(id: string, event: 'started' | 'progress', progress?: unknown): Promise<void> {
    const r = await this.d.jobs.get(id).catch(() => undefined);
    await this.d.publisher
      .enqueue({
        object: 'job',
        id,
        event,
        data: {
          node: this.d.node,
          id,
          command: `${COMMAND_PREFIX}${r?.command ?? 'unknown'}`,
          state: r?.state ?? 'running',
          ...(progress !== undefined && { progress }),
          at: new Date().toISOString(),
        },
        trace: traceOfJob(r),
      })
      .catch(() => undefined);
  }

  /** A job ended: its event, then its one reply to the original caller, then mark it answered. */
  private async completed(id: string, reply: ReplyData, record: JobRecord): Promise<void> {
    const { log } = this.d;
    try {
      await this.d.publisher.enqueue({
        object: 'job',
        id,
        event: 'completed',
        data: {
          node: this.d.node,
          id,
          command: `${COMMAND_PREFIX}${record.command}`,
          state: record.state,
          ...(record.progress !== undefined && { progress: record.progress }),
          at: new Date().toISOString(),
        },
        trace: traceOfJob(record),
      });
      const address = (record.meta as { reply?: ReplyAddress } | undefined)?.reply;
      if (address) await this.d.replyLater(address, reply);
      // callers that sent the same command id while it ran (best effort: the first caller's reply decides markReplied)
      for (const to of this.d.waiters?.take(id) ?? []) {
        this.d
          .replyLater(to, reply)
          .catch((err) => log.warn({ err, id }, 'job reply to a duplicate caller not delivered'));
      }
      await this.d.jobs.markReplied(id);
      log.info({ id, command: record.command, ok: reply.ok, trace_id: traceOfJob(record)?.traceId }, 'job replied');
    } catch (err) {
      log.error({ err, id }, 'job reply not delivered; retried at the next start');
    }
  }
}
