// One command delivery from the broker to its reply: addressing checked,
// size limit, decode, correlation, dispatch, reply (or completion event),
// then ack — only after the broker confirmed the reply, so a crash in
// between means redelivery, which the idempotency record answers.
//
// Every delivery is settled exactly once, whatever happens: `accept` ends
// every path in `settle`. What the caller chose (id, type, reply address,
// correlation) is checked here, before anything is copied into a routing
// key, topic or property, so no command can make an unpublishable answer;
// an answer that still cannot be published is dead-lettered (AMQP) or
// dropped (MQTT), logged and counted — it never holds a prefetch slot.
import { TransportClosedError, type Delivery, type InboundMessage } from '../bus/transport';
import { codecFor, jsonCodec } from '../codec/codec';
import { COMMAND_PREFIX } from '../contract/envelope';
import type { ReplyData } from '../contract/events';
import { idDigest } from '../contract/addresses';
import { attributeProblem, quote } from '../contract/text';
import { isDeferred, type CommandDispatcher, type Deferred } from '../commands/dispatcher';
import { CommandError, toWireError } from '../errors';
import type { EventPublisher } from '../events/publisher';
import type { Logger } from '../log';
import type { Transport } from '../bus/transport';
import type { JobWaiters } from './job-waiters';
import type { ReplyAddress } from './reply-address';
import { Answerer, type Addressing } from './answer';
import type { Authenticity } from '../auth/authenticity';
import { BROADCAST_TARGET } from '../auth/signing';
import { traceFromRecord, traceOf } from '../ops/trace';

export type { ReplyAddress };

export interface IntakeDeps {
  node: string;
  transport: Transport;
  dispatcher: CommandDispatcher;
  publisher: EventPublisher;
  log: Logger;
  /** larger commands are refused (BAD_REQUEST) */
  maxMessageBytes: number;
  /** a larger reply is replaced by an error reply (default 16 MiB) */
  maxOutgoingBytes?: number;
  /** callers of a job's command id while it runs, answered when it ends (without: IN_PROGRESS) */
  waiters?: JobWaiters;
  /** who may send commands (trusted senders, signatures); without: anyone who can publish */
  authenticity?: Authenticity;
  /** a command was answered (or handed to the job system): metrics */
  onAnswered?: (c: { command: string; code: string; seconds: number }) => void;
  /** a delivery was settled without its answer */
  onUnanswered?: () => void;
}

/** contract: a command id is at most 128 characters */
const MAX_ID_LENGTH = 128;
/** `virtbus.cmd.` + the longest command name with room to spare; longer types are not commands */
const MAX_TYPE_LENGTH = 256;

export interface IntakeCounters {
  /** deliveries settled without their reply or completion event */
  unanswered: number;
  /** of those, rejected to the dead-letter exchange (AMQP) */
  deadLettered: number;
  /** of those, acknowledged and dropped (MQTT has no dead-lettering) */
  dropped: number;
}

type Outcome = 'answered' | 'deferred' | 'closed' | { unanswered: unknown };

export class CommandIntake {
  private readonly inFlight = new Set<Promise<void>>();
  readonly counters: IntakeCounters = { unanswered: 0, deadLettered: 0, dropped: 0 };

  private readonly answerer: Answerer;

  constructor(private readonly d: IntakeDeps) {
    this.answerer = new Answerer(d);
  }

  get pending(): number {
    return this.inFlight.size;
  }

  accept(delivery: Delivery): void {
    const p = this.handle(delivery, performance.now())
      .catch((err): Outcome => ({ unanswered: err }))
      .then((outcome) => this.settle(delivery, outcome));
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** Waits for in-flight commands, at most ms; returns how many were still running. */
  async drain(ms: number): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise((r) => {
        timer = setTimeout(r, ms);
      }),
    ]);
    clearTimeout(timer);
    return this.inFlight.size;
  }

  /** Sends a job's final reply to the address its command came with. */
  async replyLater(address: ReplyAddress, reply: ReplyData): Promise<void> {
    const codec = codecFor(address.contentType) ?? jsonCodec;
    const { correlationData, trace: kept, ...rest } = address;
    // kept with the job as JSON: checked again before it is copied out
    const trace = traceFromRecord(kept);
    await this.answerer.answer(
      {
        ...rest,
        codec,
        ...(trace && { trace }),
        ...(correlationData !== undefined && { correlationData: Buffer.from(correlationData, 'base64') }),
      },
      reply,
    );
  }

  /** The one place a delivery is settled. */
  private settle(delivery: Delivery, outcome: Outcome): void {
    if (outcome === 'answered' || outcome === 'deferred') {
      delivery.ack();
      return;
    }
    if (outcome === 'closed') {
      // Shutting down: the broker hands it to the next run, whose idempotency record answers it.
      this.d.log.warn(
        { transport: this.d.transport.kind },
        'command left for redelivery: the transport closed before its answer was confirmed',
      );
      return;
    }
    this.counters.unanswered++;
    this.d.onUnanswered?.();
    if (delivery.deadLetters) this.counters.deadLettered++;
    else this.counters.dropped++;
    delivery.reject();
    const err = outcome.unanswered;
    this.d.log.error(
      {
        err: err instanceof Error ? { type: err.name, message: err.message } : String(err),
        deadLettered: delivery.deadLetters,
      },
      delivery.deadLetters
        ? 'command not answered: its answer could not be published; dead-lettered'
        : 'command not answered: its answer could not be published; dropped',
    );
  }

  private async handle(delivery: Delivery, startedAt: number): Promise<Outcome> {
    const m = delivery.message;
    const addr = this.initialAddressing(m);
    let reply: ReplyData | Deferred;
    try {
      reply = await this.parseAndRun(m, addr);
      if (isDeferred(reply) && reply.duplicate) reply = await this.waitForJob(reply, addr);
    } catch (e) {
      reply = { ok: false, error: toWireError(e) };
    }
    if (isDeferred(reply)) {
      // durably recorded by the job system: the broker may forget the delivery; the job replies when it ends
      this.d.log.info(
        {
          id: addr.id,
          command: addr.command,
          job: reply.job.state,
          ...(reply.duplicate && { duplicate: true }),
          trace_id: addr.trace?.traceId,
        },
        'command accepted as a job',
      );
      this.answered(addr, 'ACCEPTED', startedAt);
      return 'deferred';
    }
    this.d.log[reply.ok ? 'info' : 'warn'](
      {
        id: addr.id,
        command: addr.command,
        ok: reply.ok,
        ...(!reply.ok && { error: reply.error }),
        trace_id: addr.trace?.traceId,
      },
      'command',
    );
    try {
      await this.answerer.answer(addr, reply);
      this.answered(addr, reply.ok ? 'OK' : reply.error.code, startedAt);
      return 'answered';
    } catch (err) {
      return err instanceof TransportClosedError ? 'closed' : { unanswered: err };
    }
  }

  private answered(addr: Addressing, code: string, startedAt: number): void {
    this.d.onAnswered?.({ command: addr.command, code, seconds: (performance.now() - startedAt) / 1000 });
  }

  /** Addressing from the transport's properties alone, before the body is read; unusable addresses are dropped here. */
  private initialAddressing(m: InboundMessage): Addressing {
    const fromProps = m.messageId ?? m.correlationId;
    return {
      id:
        fromProps === undefined
          ? 'unknown'
          : attributeProblem('id', fromProps, MAX_ID_LENGTH)
            ? idDigest(fromProps)
            : fromProps,
      command: '',
      codec: codecFor(m.contentType) ?? jsonCodec,
      echoCorrelation: false,
      // from the transport's headers until the envelope is read
      trace: traceOf({}, m.headers),
      ...this.replyAddressing(m.replyTo, m.correlationData ?? m.correlationId),
    };
  }

  /** The reply address and correlation a transport can use, or none of them. */
  private replyAddressing(
    replyTo: string | undefined,
    correlation: string | Buffer | undefined,
  ): Pick<Addressing, 'replyTo' | 'correlationId' | 'correlationData'> {
    const t = this.d.transport;
    if (replyTo === undefined || t.replyAddressProblem(replyTo)) return {};
    if (Buffer.isBuffer(correlation))
      return { replyTo, correlationData: correlation, correlationId: correlation.toString('utf8') };
    if (correlation === undefined || Buffer.byteLength(correlation) > t.maxCorrelationIdBytes) return { replyTo };
    return { replyTo, correlationId: correlation };
  }

  /** Decodes and checks the command, fills in its addressing as it learns it, and runs it; throws CommandError to refuse it. */
  private async parseAndRun(m: InboundMessage, addr: Addressing): Promise<ReplyData | Deferred> {
    const t = this.d.transport;
    // An empty reply address is a bad one, not an absent one (that command would run unanswered).
    const replyProblem = m.replyTo !== undefined ? t.replyAddressProblem(m.replyTo) : undefined;
    if (m.body.length > this.d.maxMessageBytes) {
      throw new CommandError(
        'BAD_REQUEST',
        `message of ${m.body.length} bytes exceeds the limit of ${this.d.maxMessageBytes} bytes`,
      );
    }
    const codec = codecFor(m.contentType);
    if (!codec) throw new CommandError('BAD_REQUEST', `unsupported content type ${quote(m.contentType ?? '')}`);
    const env = codec.decode(m.body);
    addr.codec = codec;
    // the envelope's trace context wins over the headers' (read in initialAddressing)
    if ((env as { traceparent?: unknown }).traceparent !== undefined)
      addr.trace = traceOf(env as Record<string, unknown>, m.headers);

    const idProblem = attributeProblem('id', env.id, MAX_ID_LENGTH);
    addr.id = idProblem ? idDigest(env.id) : env.id;
    const typeProblem = attributeProblem('type', env.type, MAX_TYPE_LENGTH);
    if (!typeProblem) addr.command = env.type;

    // MQTT 3.1.1: reply address and correlation travel in the envelope.
    const replyTo = m.replyTo ?? env.replyto;
    const correlation = m.correlationData ?? m.correlationId ?? env.correlationid ?? m.messageId ?? env.id;
    Object.assign(addr, this.replyAddressing(replyTo, correlation), {
      echoCorrelation: m.replyTo === undefined && env.replyto !== undefined,
    });

    // Refusals, most basic first. A bad reply address leaves nowhere to reply: the outcome becomes the completion event.
    const envReplyProblem =
      m.replyTo === undefined && env.replyto !== undefined ? t.replyAddressProblem(env.replyto) : undefined;
    if (replyProblem ?? envReplyProblem)
      throw new CommandError('BAD_REQUEST', `unusable reply address: ${replyProblem ?? envReplyProblem}`);
    if (addr.replyTo && addr.correlationId === undefined && addr.correlationData === undefined) {
      throw new CommandError(
        'BAD_REQUEST',
        `correlation id longer than ${t.maxCorrelationIdBytes} bytes: ${t.kind.toUpperCase()} cannot carry it in the reply`,
      );
    }
    if (idProblem) throw new CommandError('BAD_REQUEST', `command ${idProblem}`);
    if (typeProblem) throw new CommandError('BAD_REQUEST', `command ${typeProblem}`);
    if (m.messageId && m.correlationId && m.messageId !== m.correlationId) {
      throw new CommandError(
        'BAD_REQUEST',
        `message_id ${quote(m.messageId)} and correlation_id ${quote(m.correlationId)} differ`,
      );
    }
    if (!env.type.startsWith(COMMAND_PREFIX)) {
      throw new CommandError(
        'BAD_REQUEST',
        `type ${quote(env.type)} is not a command (expected ${COMMAND_PREFIX}<command>)`,
      );
    }
    // Who sent it, before the idempotency record is consulted: a refused command is never recorded.
    const refusal = this.d.authenticity?.check({
      id: env.id,
      type: env.type,
      source: env.source,
      time: env.time,
      datacontenttype: env.datacontenttype,
      data: env.data,
      // extension attributes, any type: an agent without trusted keys ignores them
      sigkeyid: (env as Record<string, unknown>).sigkeyid,
      signature: (env as Record<string, unknown>).signature,
      target: m.origin === 'broadcast' ? BROADCAST_TARGET : this.d.node,
      userId: m.userId,
    });
    if (refusal) throw refusal;
    const address: ReplyAddress = (addr.address = {
      id: addr.id,
      command: addr.command,
      ...(addr.replyTo && { replyTo: addr.replyTo }),
      ...(addr.correlationId !== undefined && { correlationId: addr.correlationId }),
      ...(addr.correlationData && { correlationData: addr.correlationData.toString('base64') }),
      contentType: codec.contentType,
      echoCorrelation: addr.echoCorrelation,
      ...(addr.trace && { trace: addr.trace }),
    });
    return this.d.dispatcher.execute(
      {
        id: env.id,
        name: env.type.slice(COMMAND_PREFIX.length),
        data: env.data ?? {},
        deadline: env.deadline,
      },
      { reply: address },
    );
  }

  /** The same command id as a job still running: this caller gets the job's final reply when it ends. */
  private async waitForJob(d: Deferred, addr: Addressing): Promise<ReplyData | Deferred> {
    const inProgress: ReplyData = {
      ok: false,
      error: {
        code: 'IN_PROGRESS',
        message: `command ${d.job.id} (${d.job.command}) is ${d.job.state}; its reply comes when it ends`,
      },
    };
    if (!this.d.waiters || !addr.address?.replyTo) return inProgress;
    return (await this.d.waiters.wait(d.job.id, addr.address)) ? d : inProgress;
  }
}
