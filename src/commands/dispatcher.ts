// A command's way from a parsed envelope to its reply: known? → validate →
// allowed? → in time? → not a duplicate? → ordered per object → handler with
// a time limit → reply data. Nothing here knows about brokers.
import { COMMANDS, isCommandName, type CommandName } from '../contract/commands';
import type { ReplyData } from '../contract/events';
import { validator } from '../contract/validate';
import { CommandError, toWireError } from '../errors';
import { quote } from '../contract/text';
import type { Connection } from '../libvirt';
import type { AgentFacts, CommandContext } from './context';
import { IdempotencyRecord, type IdempotencyOptions } from './idempotency';
import { KeyedSerialQueue } from './ordering';
import { handlerFor } from './registry';
import { JOB_KINDS, jobKindOf } from './job-kinds';
import type { CommandData } from '../contract/commands';
import { type DurableIdempotency, type JobBackend, type JobRecord, type MigrateJobData } from '../jobs';
import type { PeerResolver } from '../agent/peers';

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
  /** durable outcome record of mutating commands (else: the in-memory one) */
  idempotency?: DurableIdempotency;
  /** other agents by node id (domain.migrate {to}) */
  peers?: PeerResolver;
}

/** The reply comes later: the command was durably handed to the job system. */
export interface Deferred { deferred: true; job: JobRecord }
export const isDeferred = (r: ReplyData | Deferred): r is Deferred => (r as Deferred).deferred === true;


const checkers = new Map<CommandName, (v: unknown) => string | undefined>();
function checkData(name: CommandName, data: unknown): string | undefined {
  let c = checkers.get(name);
  if (!c) checkers.set(name, (c = validator(COMMANDS[name].data)));
  return c(data);
}

/** Commands on the same domain/pool/network run in order; others concurrently. */
function orderingKey(name: string, data: Record<string, unknown>, id: string): string {
  if (typeof data.domain === 'string') return `domain:${data.domain}`;
  if (typeof data.pool === 'string') return `pool:${data.pool}`;
  if (typeof data.network === 'string') return `network:${data.network}`;
  return `command:${id}`;
}

const fail = (e: unknown): ReplyData => ({ ok: false, error: toWireError(e) });

export class CommandDispatcher {
  readonly record: IdempotencyRecord;
  private readonly queue: KeyedSerialQueue;
  private readonly stopping = new AbortController();
  readonly counters = { inFlight: 0, completed: 0, failed: 0 };

  constructor(private readonly deps: DispatcherDeps, private readonly o: DispatcherOptions = {}) {
    this.record = new IdempotencyRecord(o.idempotency);
    this.queue = new KeyedSerialQueue(o.maxConcurrent ?? 16);
  }

  /**
   * The reply, or Deferred when a job will answer later. `meta` is kept with
   * a job (how to address its reply after an agent restart).
   */
  async execute(cmd: ParsedCommand, meta?: Record<string, unknown>): Promise<ReplyData | Deferred> {
    const kind = jobKindOf(cmd.name, cmd.data);
    if (kind && this.deps.jobs) return this.submitJob(cmd, kind, this.deps.jobs, meta);
    if (this.deps.idempotency && isCommandName(cmd.name) && COMMANDS[cmd.name].mutating) return this.executeDurably(cmd, this.deps.idempotency);
    return this.executeInMemory(cmd);
  }

  private async submitJob(cmd: ParsedCommand, kind: string, jobs: JobBackend, meta?: Record<string, unknown>): Promise<ReplyData | Deferred> {
    const existing = await jobs.get(cmd.id);
    if (existing) return this.duplicateJob(existing);
    const refused = this.refusal(cmd);
    if (refused) return fail(refused);
    let data: unknown;
    try {
      data = cmd.name === 'domain.migrate' ? this.migrationData(cmd.data as CommandData<'domain.migrate'>) : cmd.data;
    } catch (e) {
      return fail(e);
    }
    const { created, record } = await jobs.submit({ id: cmd.id, kind, command: cmd.name, data, meta });
    return created ? { deferred: true, job: record } : this.duplicateJob(record);
  }

  private duplicateJob(r: JobRecord): ReplyData {
    if (r.reply) return r.reply;
    return fail(new CommandError('IN_PROGRESS', `command ${r.id} (${r.command}) is ${r.state}; its reply comes when it ends`));
  }

  /** migrate {to: node} → the node's libvirt URI from its presence. */
  private migrationData(d: CommandData<'domain.migrate'>): MigrateJobData {
    const { to, destination, ...rest } = d;
    if (!to && !destination) throw new CommandError('BAD_REQUEST', 'domain.migrate needs `to` (a node id) or `destination.uri`');
    let destinationUri = destination?.uri;
    let migrateUri = destination?.migrateUri;
    if (to) {
      if (to === this.deps.agent.node) throw new CommandError('BAD_REQUEST', `node '${to}' is this node`);
      const peer = this.deps.peers?.resolve(to);
      if (!peer) throw new CommandError('NOT_FOUND', `no presence seen from node '${to}': is its agent running on this bus?`);
      if (peer.status === 'offline') throw new CommandError('UNAVAILABLE', `node '${to}' said it is offline`);
      destinationUri ??= peer.libvirtUri;
      migrateUri ??= peer.migrateUri;
    }
    return { ...rest, destinationUri: destinationUri!, ...(migrateUri && { migrateUri }), ...(to && { destinationNode: to }) };
  }

  private async executeDurably(cmd: ParsedCommand, store: DurableIdempotency): Promise<ReplyData> {
    const known = await store.get(cmd.id);
    if (known?.state === 'running') return fail(new CommandError('IN_PROGRESS', `command ${cmd.id} (${known.command}) is still running`));
    if (known?.state === 'done') return known.reply;
    const refused = this.refusal(cmd);
    if (refused) return fail(refused);
    const begun = await store.begin(cmd.id, cmd.name);
    if (begun !== 'new') {
      return begun.state === 'done' ? begun.reply : fail(new CommandError('IN_PROGRESS', `command ${cmd.id} (${begun.command}) is still running`));
    }
    const reply = await this.runCounted(cmd);
    await store.finish(cmd.id, cmd.name, reply);
    return reply;
  }

  private async runCounted(cmd: ParsedCommand): Promise<ReplyData> {
    this.counters.inFlight++;
    try {
      const reply: ReplyData = { ok: true, result: await this.run(cmd.name as CommandName, cmd) };
      this.counters.completed++;
      return reply;
    } catch (e) {
      this.counters.failed++;
      return fail(e);
    } finally {
      this.counters.inFlight--;
    }
  }

  private async executeInMemory(cmd: ParsedCommand): Promise<ReplyData> {
    const known = this.record.get(cmd.id);
    if (known?.state === 'running') {
      return fail(new CommandError('IN_PROGRESS', `command ${cmd.id} (${known.command}) is still running`));
    }
    if (known?.state === 'done') return known.reply;

    const refused = this.refusal(cmd);
    if (refused) return fail(refused);

    const name = cmd.name as CommandName;
    this.record.begin(cmd.id, name);
    const reply = await this.runCounted(cmd);
    this.record.finish(cmd.id, name, reply);
    return reply;
  }

  /** Why the command cannot run at all (never recorded: sending it again is fine). */
  private refusal(cmd: ParsedCommand): CommandError | undefined {
    if (!isCommandName(cmd.name)) return new CommandError('UNKNOWN_COMMAND', `unknown command ${quote(cmd.name)}`);
    const spec = COMMANDS[cmd.name];
    if (spec.planned) return new CommandError('UNSUPPORTED', `command '${cmd.name}' is not implemented by this agent version`);
    // Read-only first: a mutating command is refused whatever its arguments.
    if (this.o.readOnly && spec.mutating) {
      return new CommandError('FORBIDDEN', `the agent is read-only; '${cmd.name}' changes state`);
    }
    if (!handlerFor(cmd.name) && !(JOB_KINDS[cmd.name] && this.deps.jobs)) {
      return new CommandError('UNSUPPORTED', `'${cmd.name}' is a long-running command and this agent runs without a job system`);
    }
    const problem = checkData(cmd.name, cmd.data);
    if (problem) return new CommandError('BAD_REQUEST', `invalid data for ${cmd.name}: ${problem}`);
    if (cmd.deadline !== undefined) {
      const at = Date.parse(cmd.deadline);
      if (Number.isNaN(at)) return new CommandError('BAD_REQUEST', `deadline '${cmd.deadline}' is not an RFC 3339 time`);
      if (at <= Date.now()) return new CommandError('EXPIRED', `deadline ${cmd.deadline} passed before the command started`);
    }
    return undefined;
  }

  private async run(name: CommandName, cmd: ParsedCommand): Promise<unknown> {
    const handler = handlerFor(name)!;
    const data = cmd.data as Record<string, unknown>;
    const limitMs = this.o.timeouts?.[name] ?? this.o.timeoutMs ?? 60_000;
    const timeout = new AbortController();
    const signal = AbortSignal.any([timeout.signal, this.stopping.signal]);
    const work = this.queue.run(orderingKey(name, data, cmd.id), async () => {
      if (cmd.deadline !== undefined && Date.parse(cmd.deadline) <= Date.now()) {
        throw new CommandError('EXPIRED', `deadline ${cmd.deadline} passed while the command waited its turn`);
      }
      if (signal.aborted) throw new CommandError('TIMEOUT', `command waited ${limitMs} ms for its turn`);
      const deps = this.deps;
      if (deps.libvirtReady && !(await deps.libvirtReady(this.o.libvirtWaitMs ?? 15_000))) {
        throw new CommandError('UNAVAILABLE', 'libvirt is reconnecting; try again');
      }
      const ctx: CommandContext = { get conn() { return deps.connection(); }, agent: deps.agent, signal, jobs: deps.jobs };
      return handler(data as never, ctx);
    });
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timeout.abort();
        reject(new CommandError('TIMEOUT', `${name} did not finish within ${limitMs} ms; libvirt may still complete it`));
      }, limitMs);
    });
    try {
      return await Promise.race([work, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Aborts the signals of running commands (agent shutdown). */
  stop(): void { this.stopping.abort(); }
}
