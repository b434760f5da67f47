// The load and the checks of the fault tests (test/system/): a steady
// command load with lifecycle traffic, and what every fault must leave
// true — no command lost, none executed twice (against libvirt and the
// events), no seq gap per domain and agent run.
import type { Call, Orchestrator, SeenEvent } from './orchestrator';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------
// Domains

export const testDriverXml = (name: string) =>
  `<domain type='test'><name>${name}</name><memory unit='MiB'>8</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`;

/** A real QEMU guest that costs almost nothing: no disk, no kernel (SeaBIOS finds nothing to boot and idles). */
export const tinyQemuXml = (name: string) =>
  `<domain type='qemu'><name>${name}</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>` +
  `<os><type arch='x86_64' machine='pc'>hvm</type></os><on_poweroff>destroy</on_poweroff><on_crash>destroy</on_crash>` +
  `<devices><emulator>${process.env.VIRTBUS_LAB_EMULATOR ?? '/usr/bin/qemu-system-x86_64'}</emulator>` +
  `<controller type='usb' model='none'/><memballoon model='none'/></devices></domain>`;

// ---------------------------------------------------------------------------------------
// The load

export interface LoadOptions {
  /** domain.define of a new, uniquely named domain, this many per second (while the client is connected) */
  definesPerS: number;
  defineXml: (name: string) => string;
  /** names of defined domains start with this */
  prefix: string;
  /** running domains cycled through suspend/resume, one worker each */
  lifecycle: string[];
  /** pause between two lifecycle commands of one domain */
  lifecyclePauseMs: number;
  /** a call gives up (and counts as lost) after this long */
  giveUpMs?: number;
}

export interface LifecycleCall {
  domain: string;
  call: Call;
}

/**
 * A steady load: defines at a fixed rate, and per lifecycle domain a worker
 * alternating suspend and resume, each command with a new id. New commands
 * are only issued while the client is connected (an orchestrator whose bus
 * is down has nowhere to send them); calls already issued keep re-sending.
 */
export class Load {
  readonly defines = new Map<string, Call>();
  readonly lifecycleCalls: LifecycleCall[] = [];
  private readonly pending = new Set<Promise<unknown>>();
  private running = false;
  private ticker?: NodeJS.Timeout;
  private workers: Promise<void>[] = [];
  private n = 0;

  constructor(
    private readonly client: Orchestrator,
    private readonly o: LoadOptions,
  ) {}

  get issued(): number {
    return this.defines.size + this.lifecycleCalls.length;
  }

  start(): void {
    this.running = true;
    let last = Date.now();
    let credit = 0;
    this.ticker = setInterval(() => {
      const now = Date.now();
      if (this.client.connected) credit += ((now - last) * this.o.definesPerS) / 1000;
      last = now;
      while (credit >= 1) {
        credit--;
        const name = `${this.o.prefix}${String(this.n++).padStart(5, '0')}`;
        const p = this.client.call('domain.define', { xml: this.o.defineXml(name) }, { giveUpMs: this.o.giveUpMs });
        this.track(
          p.then((c) => {
            this.defines.set(name, c);
          }),
        );
      }
    }, 10);
    this.workers = this.o.lifecycle.map((domain) => this.cycle(domain));
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private async cycle(domain: string): Promise<void> {
    let op: 'domain.suspend' | 'domain.resume' = 'domain.suspend';
    while (this.running) {
      if (!this.client.connected) {
        await sleep(20);
        continue;
      }
      const call = await this.client.call(op, { domain }, { giveUpMs: this.o.giveUpMs });
      this.lifecycleCalls.push({ domain, call });
      if (!call.final) break; // lost: the verdict reports it
      if (call.final.ok) {
        op = op === 'domain.suspend' ? 'domain.resume' : 'domain.suspend';
      } else {
        // e.g. an abandoned command after a SIGKILL: ask where the domain is now
        const get = await this.client.call('domain.get', { domain }, { giveUpMs: this.o.giveUpMs });
        if (get.final?.ok) op = get.final.result.state === 'paused' ? 'domain.resume' : 'domain.suspend';
      }
      await sleep(this.o.lifecyclePauseMs);
    }
  }

  /** Stops issuing; resolves once every issued call has its final reply (or gave up). */
  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.ticker);
    await Promise.all(this.workers);
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  /** Defines issued in [from, to) by issue time. */
  issuedBetween(from: number, to: number): number {
    return (
      [...this.defines.values()].filter((c) => c.issuedAt >= from && c.issuedAt < to).length +
      this.lifecycleCalls.filter((l) => l.call.issuedAt >= from && l.call.issuedAt < to).length
    );
  }
}

// ---------------------------------------------------------------------------------------
// The checks

/**
 * Waits until no new event arrived for quietMs (the agent publishes events
 * one at a time, each after the broker confirmed the one before, so under
 * load they trail the replies); resolves with how long that took.
 */
export async function eventsSettled(client: Orchestrator, quietMs = 1500, timeoutMs = 60_000): Promise<number> {
  const start = Date.now();
  let count = client.events.length;
  let changed = Date.now();
  while (Date.now() - changed < quietMs) {
    if (Date.now() - start > timeoutMs)
      throw new Error(`events still arriving after ${timeoutMs} ms (${client.events.length} so far)`);
    await sleep(100);
    if (client.events.length !== count) {
      count = client.events.length;
      changed = Date.now();
    }
  }
  return changed - start;
}

export interface Boot {
  bootId?: string;
  startedAt: number;
}

export interface VerdictOptions {
  /** agent runs in start order; a domain event belongs to the last run started before its `at` */
  boots: Boot[];
  /**
   * Events of a run can be missing at its end (the run was SIGKILLed before
   * the broker confirmed them, or libvirtd died before sending them): then
   * an ok command may show no event. Never more than one, never an update.
   */
  eventsMayBeMissing?: boolean;
  /** final errors a fault may legitimately cause (e.g. the abandoned-command INTERNAL after a SIGKILL); others are failures */
  allowedError?: (c: Call) => boolean;
}

export interface Verdict {
  issued: number;
  answeredOk: number;
  answeredError: number;
  resent: number;
  lost: Array<{ id: string; command: string; attempts: number }>;
  unexpectedErrors: Array<{ id: string; command: string; error: unknown }>;
  allowedErrors: Array<{ id: string; command: string; error: unknown }>;
  /** a second execution: a define seen twice or as an update, more lifecycle events than ok commands */
  executedTwice: string[];
  /** answered with an (allowed) error, yet their event shows they happened */
  failedButDone: string[];
  /** ok commands without their event (only a problem unless eventsMayBeMissing) */
  missingEvents: string[];
  seqGaps: string[];
  duplicateEvents: number;
  domainEvents: number;
  maxLatencyMs: number;
}

const isDomainEvent = (e: SeenEvent) => e.type.startsWith('virtbus.event.domain.');

/** Which run published a domain event: the last one started before the event's `at`. */
function bootOf(e: SeenEvent, boots: Boot[]): number {
  const at = Date.parse(e.data?.at ?? '') || e.receivedAt;
  let b = 0;
  boots.forEach((x, i) => {
    if (x.startedAt <= at) b = i;
  });
  return b;
}

export function verdict(client: Orchestrator, load: Load, o: VerdictOptions): Verdict {
  const all: Call[] = [...load.defines.values(), ...load.lifecycleCalls.map((l) => l.call)];
  const v: Verdict = {
    issued: all.length,
    answeredOk: 0,
    answeredError: 0,
    resent: 0,
    lost: [],
    unexpectedErrors: [],
    allowedErrors: [],
    executedTwice: [],
    failedButDone: [],
    missingEvents: [],
    seqGaps: [],
    duplicateEvents: client.duplicateEvents,
    domainEvents: 0,
    maxLatencyMs: 0,
  };
  for (const c of all) {
    if (c.attempts > 1) v.resent++;
    if (!c.final) {
      v.lost.push({ id: c.id, command: c.command, attempts: c.attempts });
      continue;
    }
    v.maxLatencyMs = Math.max(v.maxLatencyMs, c.answeredAt! - c.issuedAt);
    if (c.final.ok) {
      v.answeredOk++;
      continue;
    }
    v.answeredError++;
    const entry = { id: c.id, command: c.command, error: c.final.error };
    (o.allowedError?.(c) ? v.allowedErrors : v.unexpectedErrors).push(entry);
  }

  const domainEvents = client.events.filter(isDomainEvent);
  v.domainEvents = domainEvents.length;
  const lifecycle = domainEvents.filter((e) => e.type === 'virtbus.event.domain.lifecycle');
  const count = (name: string, event: string, detail?: string) =>
    lifecycle.filter(
      (e) =>
        e.data.domain?.name === name && e.data.event === event && (detail === undefined || e.data.detail === detail),
    ).length;

  // defines: each name once, never as an update of an existing definition
  const definedEvents = new Map<string, { added: number; updated: number }>();
  for (const e of lifecycle) {
    if (e.data.event !== 'defined') continue;
    const k = definedEvents.get(e.data.domain.name) ?? { added: 0, updated: 0 };
    if (e.data.detail === 'updated') k.updated++;
    else k.added++;
    definedEvents.set(e.data.domain.name, k);
  }
  for (const [name, c] of load.defines) {
    const k = definedEvents.get(name) ?? { added: 0, updated: 0 };
    if (k.added > 1 || k.updated > 0) v.executedTwice.push(`${name}: defined ${k.added}× added, ${k.updated}× updated`);
    if (c.final?.ok && k.added === 0) v.missingEvents.push(`${name}: define ok, no defined event`);
  }

  // lifecycle: per domain, suspended/resumed events = ok suspend/resume commands (+ those
  // answered with an allowed error: their outcome is unknown, they may have happened)
  for (const domain of new Set(load.lifecycleCalls.map((l) => l.domain))) {
    const calls = load.lifecycleCalls.filter((l) => l.domain === domain).map((l) => l.call);
    for (const [command, event] of [
      ['domain.suspend', 'suspended'],
      ['domain.resume', 'resumed'],
    ] as const) {
      const ok = calls.filter((c) => c.command === command && c.final?.ok).length;
      const unknown = calls.filter((c) => c.command === command && c.final?.ok === false && o.allowedError?.(c)).length;
      const seen = count(domain, event);
      if (seen > ok + unknown)
        v.executedTwice.push(
          `${domain}: ${seen} ${event} events for ${ok} ok ${command} (+${unknown} of unknown outcome)`,
        );
      else if (seen > ok)
        v.failedButDone.push(`${domain}: ${seen - ok} ${command} answered with an error happened all the same`);
      if (seen < ok) v.missingEvents.push(`${domain}: ${seen} ${event} events for ${ok} ok ${command}`);
    }
  }

  // seq: per agent run and domain 1, 2, 3, … (a run's tail may be cut by a SIGKILL, never its middle)
  const seqs = new Map<string, number[]>();
  for (const e of domainEvents) {
    const k = `run ${bootOf(e, o.boots)} domain ${e.data.domain?.name ?? e.data.domain?.uuid}`;
    const l = seqs.get(k) ?? [];
    l.push(e.data.seq);
    seqs.set(k, l);
  }
  for (const [k, l] of seqs) {
    l.sort((a, b) => a - b);
    const bad = l.findIndex((s, i) => s !== i + 1);
    if (bad >= 0)
      v.seqGaps.push(
        `${k}: seq ${l.slice(Math.max(0, bad - 2), bad + 3).join(',')} (expected ${bad + 1} at position ${bad + 1})`,
      );
  }
  return v;
}

/** The assertions every fault test makes; the message carries the evidence. */
export function expectClean(v: Verdict, o: { eventsMayBeMissing?: boolean } = {}): void {
  const problems: string[] = [];
  if (v.lost.length) problems.push(`${v.lost.length} commands lost: ${JSON.stringify(v.lost.slice(0, 5))}`);
  if (v.unexpectedErrors.length)
    problems.push(`${v.unexpectedErrors.length} commands failed: ${JSON.stringify(v.unexpectedErrors.slice(0, 5))}`);
  if (v.executedTwice.length)
    problems.push(`${v.executedTwice.length} executed twice: ${v.executedTwice.slice(0, 5).join('; ')}`);
  if (v.seqGaps.length) problems.push(`${v.seqGaps.length} seq gaps: ${v.seqGaps.slice(0, 5).join('; ')}`);
  if (!o.eventsMayBeMissing && v.missingEvents.length)
    problems.push(`${v.missingEvents.length} events missing: ${v.missingEvents.slice(0, 5).join('; ')}`);
  if (problems.length) throw new Error(problems.join('\n'));
}

export function summary(v: Verdict): string {
  return (
    `${v.issued} commands (${v.answeredOk} ok, ${v.allowedErrors.length} allowed errors, ${v.unexpectedErrors.length} failed, ` +
    `${v.lost.length} lost, ${v.resent} re-sent), ${v.domainEvents} domain events (${v.duplicateEvents} duplicates dropped), ` +
    `max latency ${v.maxLatencyMs} ms`
  );
}

/** Every ok define is in libvirt (`listed`: name → state), every domain of ours there was asked for, lifecycle domains are where their last ok command left them. */
export function checkLibvirt(load: Load, listed: Map<string, string>, prefix: string): void {
  const problems: string[] = [];
  for (const [name, c] of load.defines) {
    if (c.final?.ok && !listed.has(name)) problems.push(`${name}: define answered ok but libvirt does not have it`);
  }
  for (const name of listed.keys()) {
    if (name.startsWith(prefix) && !load.defines.has(name)) problems.push(`${name}: in libvirt, never asked for`);
  }
  for (const domain of new Set(load.lifecycleCalls.map((l) => l.domain))) {
    // after a command that failed (abandoned, libvirtd gone) the worker asked where the domain is; only an ok last command says where it must be
    const last = load.lifecycleCalls.filter((l) => l.domain === domain && l.call.final).pop();
    if (!last?.call.final?.ok) continue;
    const want = last.call.command === 'domain.suspend' ? 'paused' : 'running';
    if (listed.get(domain) !== want)
      problems.push(`${domain}: libvirt says ${listed.get(domain)}, its last ok command was ${last.call.command}`);
  }
  if (problems.length) throw new Error(`libvirt disagrees with the replies:\n${problems.slice(0, 10).join('\n')}`);
}
