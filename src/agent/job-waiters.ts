// Callers that sent a job's command id again while the job runs: each gets
// the job's final reply when it ends, as the first caller does. Their
// deliveries are acknowledged at once (a duplicate must not hold a prefetch
// slot for a migration's length); the waiters live in memory only, so after
// an agent restart such a caller re-sends and gets the stored reply.
import type { ReplyData } from '../contract/events';
import type { JobBackend } from '../jobs';
import type { ReplyAddress } from './reply-address';

/** more duplicates of one job than this are answered IN_PROGRESS at once */
export const MAX_WAITERS_PER_JOB = 64;

export class JobWaiters {
  private readonly waiting = new Map<string, ReplyAddress[]>();

  constructor(
    private readonly jobs: JobBackend,
    private readonly send: (to: ReplyAddress, reply: ReplyData) => Promise<void>,
  ) {}

  /** false: too many wait already (answer IN_PROGRESS). */
  async wait(id: string, to: ReplyAddress): Promise<boolean> {
    const list = this.waiting.get(id) ?? [];
    if (list.length >= MAX_WAITERS_PER_JOB) return false;
    list.push(to);
    this.waiting.set(id, list);
    // It may have ended between the dispatcher's look and now: then nobody else will answer this waiter.
    const r = await this.jobs.get(id);
    if (r?.reply && this.remove(id, to)) await this.send(to, r.reply);
    return true;
  }

  /** The waiters of a job that ended (called once, when it replies). */
  take(id: string): ReplyAddress[] {
    const list = this.waiting.get(id) ?? [];
    this.waiting.delete(id);
    return list;
  }

  private remove(id: string, to: ReplyAddress): boolean {
    const list = this.waiting.get(id);
    const i = list?.indexOf(to) ?? -1;
    if (i < 0) return false;
    list!.splice(i, 1);
    if (!list!.length) this.waiting.delete(id);
    return true;
  }
}
