// Drives suspend/resume across many domains: at most one command per domain
// at a time (a second suspend of a paused guest would fail), the next one of
// each domain flipping its state. Either a fixed number in flight for a
// while (throughput), or a fixed rate (latency).
import { isAborting } from './cleanup';
import { assertOk } from './commands';
import { nowMs } from './event-watch';
import { sleep } from './proc';

export type SendCommand = (command: 'domain.suspend' | 'domain.resume', domain: string) => Promise<Buffer>;

export interface DriveResult {
  sent: number;
  ok: number;
  okSuspend: number;
  okResume: number;
  failed: number;
  firstError?: string;
  /** epoch ms */
  firstSentAt: number;
  lastReplyAt: number;
  /** how long commands were being sent */
  seconds: number;
}

export class LifecycleDriver {
  private readonly paused = new Set<string>();
  private readonly busy = new Set<string>();
  private cursor = 0;
  private r!: DriveResult;
  totalOkSuspend = 0;
  totalOkResume = 0;
  totalFailed = 0;

  constructor(
    private readonly names: readonly string[],
    private readonly send: SendCommand,
  ) {}

  private fresh(): DriveResult {
    return { sent: 0, ok: 0, okSuspend: 0, okResume: 0, failed: 0, firstSentAt: NaN, lastReplyAt: NaN, seconds: 0 };
  }

  /** These domains are paused now (their next command is a resume). */
  markSuspended(domains: readonly string[]): void {
    for (const d of domains) this.paused.add(d);
  }

  /** the next idle domain, round robin */
  private pick(): string | undefined {
    for (let i = 0; i < this.names.length; i++) {
      const d = this.names[this.cursor];
      this.cursor = (this.cursor + 1) % this.names.length;
      if (!this.busy.has(d)) return d;
    }
    return undefined;
  }

  /** false when the command failed */
  private async one(domain: string): Promise<boolean> {
    const r = this.r;
    this.busy.add(domain);
    const command = this.paused.has(domain) ? 'domain.resume' : 'domain.suspend';
    if (!r.sent++) r.firstSentAt = nowMs();
    try {
      assertOk(await this.send(command, domain), `${command} ${domain}`);
      r.ok++;
      if (command === 'domain.suspend') {
        this.paused.add(domain);
        r.okSuspend++;
        this.totalOkSuspend++;
      } else {
        this.paused.delete(domain);
        r.okResume++;
        this.totalOkResume++;
      }
      return true;
    } catch (e) {
      r.failed++;
      this.totalFailed++;
      r.firstError ??= (e as Error).message;
      return false;
    } finally {
      r.lastReplyAt = nowMs();
      this.busy.delete(domain);
    }
  }

  /** `inFlight` commands outstanding for durationMs. */
  async saturate(inFlight: number, durationMs: number): Promise<DriveResult> {
    this.r = this.fresh();
    const r = this.r;
    const end = Date.now() + durationMs;
    const worker = async () => {
      while (Date.now() < end && !isAborting()) {
        const d = this.pick();
        if (d === undefined || !(await this.one(d))) await sleep(1);
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    r.seconds = (r.lastReplyAt - r.firstSentAt) / 1000;
    return r;
  }

  /** ratePerS commands a second for durationMs, whatever the replies do. */
  async paced(ratePerS: number, durationMs: number): Promise<DriveResult> {
    this.r = this.fresh();
    const r = this.r;
    const inflight = new Set<Promise<boolean>>();
    const t0 = Date.now();
    for (;;) {
      const elapsed = Date.now() - t0;
      if (elapsed >= durationMs || isAborting()) break;
      const due = Math.floor((elapsed * ratePerS) / 1000);
      while (r.sent < due) {
        const d = this.pick();
        if (d === undefined) break;
        const p = this.one(d);
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
      await sleep(1);
    }
    r.seconds = (Date.now() - t0) / 1000;
    await Promise.all(inflight);
    return r;
  }
}
