// A job's course for people: on a terminal one bar redrawn in place (\r) —
// phase, percent, bytes done of total, rate, ETA — and erased at the end;
// elsewhere (a pipe, a log) one plain line per job event. It reads the
// runners' progress shapes: migration and save/snapshot report libvirt's
// job statistics (dataTotal, dataProcessed, dataRemaining, memBps,
// timeRemainingMs, iteration, …), volume copies their growing allocation
// (bytesTotal, bytesAllocated).
import type { JobEvent } from '../client/job-event';
import { bytes, duration } from './units';

export { JOB_EVENT_PREFIX, jobEventOf, type JobEvent } from '../client/job-event';

/** What a progress report says, in one shape whatever the runner. */
export interface ProgressFacts {
  phase?: string;
  /** 0..100 */
  percent?: number;
  processed?: number;
  total?: number;
  /** bytes per second */
  rate?: number;
  /** seconds to go */
  eta?: number;
  iteration?: number;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * Reads one progress report. `before` is the previous sample (bytes done and
 * when), for a rate when the runner reports none.
 */
export function progressFacts(p: unknown, t: number, before?: { processed: number; t: number }): ProgressFacts {
  const r = (p && typeof p === 'object' ? p : {}) as Record<string, unknown>;
  const total = num(r.dataTotal) ?? num(r.bytesTotal) ?? num(r.memTotal);
  const processed = num(r.dataProcessed) ?? num(r.bytesAllocated) ?? num(r.memProcessed);
  let remaining = num(r.dataRemaining) ?? num(r.memRemaining);
  if (remaining === undefined && total !== undefined && processed !== undefined && r.bytesTotal !== undefined)
    remaining = Math.max(0, total - processed);
  let percent: number | undefined;
  // a migration sends dirtied pages again: processed may pass total, remaining is what is left
  if (total && remaining !== undefined) percent = ((total - remaining) / total) * 100;
  else if (total && processed !== undefined) percent = (processed / total) * 100;
  if (percent !== undefined) percent = Math.min(100, Math.max(0, percent));
  let rate = num(r.memBps) ?? num(r.diskBps);
  if (!rate && before && processed !== undefined && t > before.t && processed >= before.processed)
    rate = ((processed - before.processed) * 1000) / (t - before.t);
  let eta = num(r.timeRemainingMs) !== undefined ? num(r.timeRemainingMs)! / 1000 : undefined;
  if (eta === undefined && rate && remaining !== undefined) eta = remaining / rate;
  return {
    ...(typeof r.phase === 'string' && { phase: r.phase }),
    ...(percent !== undefined && { percent }),
    ...(processed !== undefined && { processed }),
    ...(total !== undefined && { total }),
    ...(rate ? { rate } : {}),
    ...(eta !== undefined && { eta }),
    ...(num(r.iteration) !== undefined && { iteration: num(r.iteration) }),
  };
}

/** The pieces both renderings share: 45%, 115 MiB/256 MiB, 12.3 MiB/s, ETA 0:11. */
function parts(f: ProgressFacts): { percent?: string; amount?: string; rate?: string; eta?: string } {
  return {
    ...(f.percent !== undefined && { percent: `${Math.floor(f.percent)}%` }),
    ...(f.processed !== undefined && {
      amount: f.total !== undefined ? `${bytes(f.processed)}/${bytes(f.total)}` : bytes(f.processed),
    }),
    ...(f.rate !== undefined && { rate: `${bytes(f.rate)}/s` }),
    ...(f.eta !== undefined && { eta: `ETA ${duration(f.eta)}` }),
  };
}

/** One terminal frame, at most `columns - 1` wide (a wrapped line could not be redrawn with \r). */
export function barFrame(label: string, f: ProgressFacts, columns: number): string {
  const p = parts(f);
  const head = `${label} ${f.phase ?? 'running'}`;
  const tail = [p.percent?.padStart(4), p.amount, p.rate, p.eta].filter(Boolean).join('  ');
  const room = columns - 1 - head.length - tail.length - 5; // ' [', ']', '  '
  let frame = head;
  if (f.percent !== undefined && room >= 10) {
    const width = Math.min(30, room);
    const done = Math.round((f.percent / 100) * width);
    frame += ` [${'#'.repeat(done)}${'-'.repeat(width - done)}]`;
  }
  if (tail) frame += `  ${tail}`;
  return frame.length > columns - 1 ? frame.slice(0, Math.max(0, columns - 1)) : frame;
}

/** One plain line per progress event. */
export function progressLine(id: string, f: ProgressFacts): string {
  const p = parts(f);
  const words = [
    f.phase ?? 'running',
    p.percent,
    p.amount,
    p.rate,
    p.eta,
    f.iteration !== undefined ? `iteration ${f.iteration}` : undefined,
  ];
  return `job ${id}: progress: ${words.filter(Boolean).join(' ')}`;
}

export interface ProgressViewOptions {
  /** a terminal: redraw one line; otherwise one line per event */
  tty: boolean;
  columns?: number;
  /** what the bar is about (domain.migrate) */
  label: string;
}

/** Turns a job's events into what to write (on stderr: stdout stays the result). */
export class ProgressView {
  private before?: { processed: number; t: number };
  private drawn = false;

  constructor(private readonly o: ProgressViewOptions) {}

  /** The text to write for this event ('' for nothing). */
  render(e: JobEvent, now = Date.now()): string {
    const t = e.at ?? now;
    if (e.event === 'completed') {
      if (this.o.tty) return this.clear();
      return `job ${e.id}: completed: ${e.state ?? 'ended'}\n`;
    }
    if (e.event === 'started') {
      if (!this.o.tty) return `job ${e.id}: started${e.command ? ` (${e.command})` : ''}\n`;
      if (this.drawn) return ''; // progress came first (events may cross): keep the bar
      return this.draw({ phase: 'started' });
    }
    const f = progressFacts(e.progress, t, this.before);
    if (f.processed !== undefined) this.before = { processed: f.processed, t };
    return this.o.tty ? this.draw(f) : `${progressLine(e.id, f)}\n`;
  }

  private draw(f: ProgressFacts): string {
    this.drawn = true;
    return `\r${barFrame(this.o.label, f, this.o.columns ?? 80)}\x1b[K`;
  }

  /** Erases the bar (terminal) so the result starts on a clean line; '' when nothing was drawn. */
  clear(): string {
    if (!this.drawn) return '';
    this.drawn = false;
    return '\r\x1b[K';
  }
}
