// A command's way from a parsed envelope to its reply, one path for every
// command: known already? (its first outcome) → refusals (unknown, planned,
// read-only, schema, deadline; never recorded) → a job (recorded durably,
// replies when it ends) or run once, ordered per object, with a time limit,
// its outcome recorded. Nothing here knows about brokers or about any job
// kind by name (src/jobs/kinds/).
import { commandFlags, isCommandName } from '../contract/catalogue';
import type { CommandName } from '../contract/commands';
import type { ReplyData } from '../contract/events';
import { quote } from '../contract/text';
import { checkCommandData } from '../contract/validators';
import { CommandError, toWireError } from '../errors';
import { LazyAbort } from './lazy-abort';
import type { JobBackend, JobRecord } from '../jobs';
import { isJobOnlyCommand, jobKindFor, type JobKind, type PeerResolver } from '../jobs/kinds';
import type { Connection } from '../libvirt';
import type { AgentFacts, CommandContext } from './context';
import { MemoryIdempotency, type IdempotencyOptions, type IdempotencyStore } from '../idempotency';
import { KeyedSerialQueue, type Access, type Turn } from './ordering';
import { handlerFor } from './registry';

export interface ParsedCommand {
  /** command id: correlation id and idempotency key */
  id: string;
  /** command name, e.g. domain.start (the CloudEvents type without virtbus.cmd.) */
  name: string;
  data: unknown;
  /** RFC 3339 */
  deadline?: string;
}

export interface DispatcherOptions {
  readOnly?: boolean;
  /** default time limit of a command, ms (default 60000) */
  timeoutMs?: number;
  /** per-command time limits, ms */
  timeouts?: Partial<Record<CommandName, number>>;
  /** commands running at once across objects (default 16) */
  maxConcurrent?: number;
  /** the in-memory record of read-only commands (and of every command without a durable store) */
  idempotency?: IdempotencyOptions;
  /** how long a command waits for libvirt to come back before UNAVAILABLE (ms, default 15000) */
  libvirtWaitMs?: number;
}

export interface DispatcherDeps {
  /** the current libvirt connection; throws NotConnectedError while reconnecting */
  connection: () => Connection;
  agent: AgentFacts;
  /** resolves true when libvirt is usable (after a reconnect: once the snapshot is out), false after ms */
  libvirtReady?: (ms: number) => Promise<boolean>;
  /** runs the long-running commands; without it they are UNSUPPORTED */
  jobs?: JobBackend;
  /** durable outcome record of mutating commands (default: the in-memory one) */
  idempotency?: IdempotencyStore;
  /** other agents by node id (domain.migrate {to}) */
  peers?: PeerResolver;
}

/**
 * The reply comes later: the command was durably handed to the job system
 * (or, with duplicate, is the same command id as a job still running, whose
 * final reply the caller will get when it ends).
 */
export interface Deferred {
  deferred: true;
  job: JobRecord;
  duplicate?: boolean;
}
export const isDeferred = (r: ReplyData | Deferred): r is Deferred => (r as Deferred).deferred === true;

/** Commands on the same domain/pool/network run in order; others concurrently. */
function orderingKey(data: unknown, id: string): string {
  const d = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  if (typeof d.domain === 'string') return `domain:${d.domain}`;
  if (typeof d.pool === 'string') return `pool:${d.pool}`;
  if (typeof d.network === 'string') return `network:${d.network}`;
  return `command:${id}`;
}

/** Reads run together on an object; anything that changes state (or is not known to be a read) runs alone. */
function accessOf(name: string): Access {
  return isCommandName(name) && !commandFlags(name).mutating ? 'read' : 'write';
}

const fail = (e: unknown): ReplyData => ({ ok: false, error: toWireError(e) });

export class CommandDispatcher {
  /** the in-memory record (reads; every command when there is no durable store) */
  readonly memory: MemoryIdempotency;
  private readonly queue: KeyedSerialQueue;
  /**
   * One abort per running command, aborted by its time limit or by stop().
   * (Not AbortSignal.any over a shared stop signal: on Node 20 every such
   * signal leaves weak references on the shared one, which the garbage
   * collector then walks on every scavenge.)
   */
  private readonly aborts = new Set<LazyAbort>();
  private stopped = false;
  /** short commands running in this process, by id: a duplicate waits for the first's reply */
  private readonly running = new Map<string, Promise<ReplyData>>();
  readonly counters = { inFlight: 0, completed: 0, failed: 0 };

  constructor(
    private readonly deps: DispatcherDeps,
    private readonly o: DispatcherOptions = {},
  ) {
    this.memory = new MemoryIdempotency(o.idempotency);
    this.queue = new KeyedSerialQueue(o.maxConcurrent ?? 16);
  }

  /**
   * The reply, or Deferred when a job will answer later. `meta` is kept with
   * a job (how to address its reply after an agent restart).
   */
  async execute(cmd: ParsedCommand, meta?: Record<string, unknown>): Promise<ReplyData | Deferred> {
    // 1. Known already: the same command id never runs twice.
    const first = this.running.get(cmd.id);
    if (first) return first;
    const kind = this.deps.jobs ? jobKindFor(cmd.name, cmd.data) : undefined;
    // Its place among the commands on its object is taken on arrival: the
    // checks below wait for stores, and a read that arrived after a write
    // must not overtake it meanwhile (jobs are ordered by the job system).
    const turn = kind ? undefined : this.queue.reserve(orderingKey(cmd.data, cmd.id), accessOf(cmd.name));
    let handedOver = false;
    try {
      if (kind) {
        const job = await this.deps.jobs!.get(cmd.id);
        if (job) return this.duplicateJob(job);
      }
      const store = this.storeFor(cmd.name);
      const known = await store.get(cmd.id);
      if (known) return this.known(cmd.id, known);
      // 2. Refusals: never recorded, so sending the command again (fixed) is fine.
      const refused = this.refusal(cmd);
      if (refused) return fail(refused);
      // 3. Run: as a job, or once here.
      if (kind) return this.submitJob(cmd, kind, meta);
      const p = this.runOnce(cmd, store, turn!);
      handedOver = true;
      if (!this.running.has(cmd.id)) {
        this.running.set(cmd.id, p);
        void p.finally(() => {
          if (this.running.get(cmd.id) === p) this.running.delete(cmd.id);
        });
      }
      return p;
    } finally {
      if (!handedOver) turn?.release();
    }
  }

  /** Mutating commands are recorded durably where there is a store for it; reads in memory. */
  private storeFor(name: string): IdempotencyStore {
    return this.deps.idempotency && isCommandName(name) && commandFlags(name).mutating
      ? this.deps.idempotency
      : this.memory;
  }

  private known(
    id: string,
    e: Exclude<Awaited<ReturnType<IdempotencyStore['get']>>, undefined>,
  ): ReplyData | Promise<ReplyData> {
    if (e.state === 'done') return e.reply;
    // Running here: its reply. Running elsewhere (a record shared with another process): we cannot wait for it.
    return (
      this.running.get(id) ?? fail(new CommandError('IN_PROGRESS', `command ${id} (${e.command}) is still running`))
    );
  }

  private async submitJob(
    cmd: ParsedCommand,
    kind: JobKind,
    meta?: Record<string, unknown>,
  ): Promise<ReplyData | Deferred> {
    let data: unknown;
    try {
      data = kind.prepare
        ? await kind.prepare(cmd.data, { node: this.deps.agent.node, peers: this.deps.peers })
        : cmd.data;
    } catch (e) {
      return fail(e);
    }
    const { created, record } = await this.deps.jobs!.submit({
      id: cmd.id,
      kind: kind.name,
      command: cmd.name,
      data,
      meta,
    });
    return created ? { deferred: true, job: record } : this.duplicateJob(record);
  }

  private duplicateJob(r: JobRecord): ReplyData | Deferred {
    return r.reply ?? { deferred: true, job: r, duplicate: true };
  }

  private async runOnce(cmd: ParsedCommand, store: IdempotencyStore, turn: Turn): Promise<ReplyData> {
    let begun: Awaited<ReturnType<IdempotencyStore['begin']>>;
    try {
      begun = await store.begin(cmd.id, cmd.name);
    } catch (e) {
      turn.release();
      throw e;
    }
    if (begun !== 'new') {
      turn.release();
      return this.known(cmd.id, begun);
    }
    const began = { handler: false };
    const reply = await this.runCounted(cmd, began, turn);
    // Never reached libvirt (it stayed away, its turn expired): nothing happened, so nothing is recorded and a re-send runs.
    if (!began.handler) await store.forget(cmd.id);
    else await store.finish(cmd.id, cmd.name, reply);
    return reply;
  }

  private async runCounted(cmd: ParsedCommand, began: { handler: boolean }, turn: Turn): Promise<ReplyData> {
    this.counters.inFlight++;
    try {
      const reply: ReplyData = { ok: true, result: await this.run(cmd.name as CommandName, cmd, began, turn) };
      this.counters.completed++;
      return reply;
    } catch (e) {
      this.counters.failed++;
      return fail(e);
    } finally {
      this.counters.inFlight--;
    }
  }

  /** Why the command cannot run at all (never recorded: sending it again is fine). */
  private refusal(cmd: ParsedCommand): CommandError | undefined {
    if (!isCommandName(cmd.name)) return new CommandError('UNKNOWN_COMMAND', `unknown command ${quote(cmd.name)}`);
    const spec = commandFlags(cmd.name);
    if (spec.planned)
      return new CommandError('UNSUPPORTED', `command '${cmd.name}' is not implemented by this agent version`);
    // Read-only first: a mutating command is refused whatever its arguments.
    if (this.o.readOnly && spec.mutating) {
      return new CommandError('FORBIDDEN', `the agent is read-only; '${cmd.name}' changes state`);
    }
    if (!handlerFor(cmd.name) && !(isJobOnlyCommand(cmd.name) && this.deps.jobs)) {
      return new CommandError(
        'UNSUPPORTED',
        `'${cmd.name}' is a long-running command and this agent runs without a job system`,
      );
    }
    const problem = checkCommandData(cmd.name, cmd.data);
    if (problem) return new CommandError('BAD_REQUEST', `invalid data for ${cmd.name}: ${problem}`);
    if (cmd.deadline !== undefined) {
      const at = Date.parse(cmd.deadline);
      if (Number.isNaN(at))
        return new CommandError('BAD_REQUEST', `deadline '${cmd.deadline}' is not an RFC 3339 time`);
      if (at <= Date.now())
        return new CommandError('EXPIRED', `deadline ${cmd.deadline} passed before the command started`);
    }
    return undefined;
  }

  private async run(name: CommandName, cmd: ParsedCommand, began: { handler: boolean }, turn: Turn): Promise<unknown> {
    const handler = handlerFor(name)!;
    const data = cmd.data as Record<string, unknown>;
    const limitMs = this.o.timeouts?.[name] ?? this.o.timeoutMs ?? 60_000;
    const abort = new LazyAbort();
    if (this.stopped) abort.abort();
    else this.aborts.add(abort);
    const work = turn.run(async () => {
      if (cmd.deadline !== undefined && Date.parse(cmd.deadline) <= Date.now()) {
        throw new CommandError('EXPIRED', `deadline ${cmd.deadline} passed while the command waited its turn`);
      }
      if (abort.aborted) throw new CommandError('TIMEOUT', `command waited ${limitMs} ms for its turn`);
      const deps = this.deps;
      if (deps.libvirtReady && !(await deps.libvirtReady(this.o.libvirtWaitMs ?? 15_000))) {
        throw new CommandError('UNAVAILABLE', 'libvirt is reconnecting; try again');
      }
      const ctx: CommandContext = {
        get conn() {
          return deps.connection();
        },
        agent: deps.agent,
        get signal() {
          return abort.signal;
        },
        jobs: deps.jobs,
      };
      began.handler = true;
      return handler(data as never, ctx);
    });
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(
          new CommandError('TIMEOUT', `${name} did not finish within ${limitMs} ms; libvirt may still complete it`),
        );
      }, limitMs);
    });
    try {
      return await Promise.race([work, expired]);
    } finally {
      clearTimeout(timer);
      this.aborts.delete(abort);
    }
  }

  /** Aborts the signals of running commands (agent shutdown). */
  stop(): void {
    this.stopped = true;
    for (const abort of this.aborts) abort.abort();
    this.aborts.clear();
  }
}
