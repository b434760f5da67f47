// Periodic statistics on the bus (what libvirt-qmf offered by polling,
// without anyone polling): every --stats-interval seconds one bulk
// virConnectGetAllDomainStats call (NOWAIT: a domain busy with a job is
// left out of that round rather than stalling it), then one
// virtbus.event.domain.stats per domain. A round that has not been
// confirmed by the broker when the next is due is not overtaken: that
// round is skipped (a slow broker gets fewer rounds, never a pile). Stats
// events take no `seq`: seq numbers the domain's state changes, and a
// consumer of lifecycle events alone must see no gaps.
import type { Connection } from '../libvirt';
import { withTimeout } from '../timeout';
import type { EventPublisher } from './publisher';

export interface StatsPublisherOptions {
  node: string;
  publisher: EventPublisher;
  connection: () => Connection | undefined;
  intervalMs: number;
  /** how long a round waits for libvirt (default: the interval, at most 30 s) */
  timeoutMs?: number;
  onError?: (err: unknown) => void;
}

export class StatsPublisher {
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;
  /** rounds published, rounds skipped because the last one was still going */
  readonly counters = { rounds: 0, skipped: 0, events: 0 };

  constructor(private readonly o: StatsPublisherOptions) {}

  start(): void {
    if (this.timer || this.o.intervalMs <= 0) return;
    this.timer = setInterval(() => this.tick(), this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round now (also what the timer runs); resolves once its events are confirmed. */
  tick(): Promise<void> {
    if (this.round) {
      this.counters.skipped++;
      return this.round;
    }
    this.round = this.publishRound()
      .catch((err) => this.o.onError?.(err))
      .finally(() => {
        this.round = undefined;
      });
    return this.round;
  }

  private async publishRound(): Promise<void> {
    const conn = this.o.connection();
    if (!conn) return; // libvirt is reconnecting: no statistics this round
    const limit = this.o.timeoutMs ?? Math.min(this.o.intervalMs, 30_000);
    const records = await withTimeout(conn.allDomainStats(0, { nowait: true }), limit, 'domain statistics');
    const at = new Date().toISOString();
    const sent = records.map(({ domain, params }) =>
      this.o.publisher.enqueue({
        object: 'domain',
        id: domain.uuid,
        event: 'stats',
        data: { node: this.o.node, domain: { uuid: domain.uuid, name: domain.name }, stats: params, at },
      }),
    );
    this.counters.rounds++;
    const settled = await Promise.allSettled(sent);
    this.counters.events += settled.filter((r) => r.status === 'fulfilled').length;
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
