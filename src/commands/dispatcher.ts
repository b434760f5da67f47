// A command's way from a parsed envelope to its reply: known? → validate →
// allowed? → in time? → not a duplicate? → ordered per object → handler with
// a time limit → reply data. Nothing here knows about brokers.
import { COMMANDS, isCommandName, type CommandName } from '../contract/commands';
import type { ReplyData } from '../contract/events';
import { validator } from '../contract/validate';
import { CommandError, toWireError } from '../errors';
import type { Connection } from '../libvirt';
import type { AgentFacts, CommandContext } from './context';
import { IdempotencyRecord, type IdempotencyOptions } from './idempotency';
import { KeyedSerialQueue } from './ordering';
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
}

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

  async execute(cmd: ParsedCommand): Promise<ReplyData> {
    const known = this.record.get(cmd.id);
    if (known?.state === 'running') {
      return fail(new CommandError('IN_PROGRESS', `command ${cmd.id} (${known.command}) is still running`));
    }
    if (known?.state === 'done') return known.reply;

    const refused = this.refusal(cmd);
    if (refused) return fail(refused);

    const name = cmd.name as CommandName;
    this.record.begin(cmd.id, name);
    this.counters.inFlight++;
    let reply: ReplyData;
    try {
      reply = { ok: true, result: await this.run(name, cmd) };
      this.counters.completed++;
    } catch (e) {
      reply = fail(e);
      this.counters.failed++;
    } finally {
      this.counters.inFlight--;
    }
    this.record.finish(cmd.id, name, reply);
    return reply;
  }

  /** Why the command cannot run at all (never recorded: sending it again is fine). */
  private refusal(cmd: ParsedCommand): CommandError | undefined {
    if (!isCommandName(cmd.name)) return new CommandError('UNKNOWN_COMMAND', `unknown command '${cmd.name}'`);
    const spec = COMMANDS[cmd.name];
    if (spec.planned || !handlerFor(cmd.name)) {
      return new CommandError('UNSUPPORTED', `command '${cmd.name}' is not implemented by this agent version`);
    }
    // Read-only first: a mutating command is refused whatever its arguments.
    if (this.o.readOnly && spec.mutating) {
      return new CommandError('FORBIDDEN', `the agent is read-only; '${cmd.name}' changes state`);
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
      const ctx: CommandContext = { get conn() { return deps.connection(); }, agent: deps.agent, signal };
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
