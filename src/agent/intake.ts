// One command delivery from the broker to its reply: size limit, decode,
// correlation, dispatch, reply (or completion event), then ack — only after
// the broker confirmed the reply, so a crash in between means redelivery,
// which the idempotency record answers.
import type { Delivery } from '../bus/transport';
import { codecFor, jsonCodec, type MessageCodec } from '../codec/codec';
import { COMMAND_PREFIX, REPLY_TYPE } from '../contract/envelope';
import type { ReplyData } from '../contract/events';
import { isDeferred, type CommandDispatcher, type Deferred } from '../commands/dispatcher';
import { CommandError, toWireError } from '../errors';
import type { EventPublisher } from '../events/publisher';
import type { Logger } from '../log';
import type { Transport } from '../bus/transport';

export interface IntakeDeps {
  node: string;
  transport: Transport;
  dispatcher: CommandDispatcher;
  publisher: EventPublisher;
  log: Logger;
  maxMessageBytes: number;
}

interface Addressing { id: string; command: string; replyTo?: string; correlationId: string; codec: MessageCodec; echoCorrelation: boolean }

/** What a job keeps so its reply can be addressed later, even by the next agent run. */
export interface ReplyAddress { id: string; command: string; replyTo?: string; correlationId: string; contentType: string; echoCorrelation: boolean }

export class CommandIntake {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly d: IntakeDeps) {}

  get pending(): number { return this.inFlight.size; }

  accept(delivery: Delivery): void {
    const p = this.handle(delivery).catch((err) => this.d.log.error({ err }, 'command intake failed'));
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** Waits for in-flight commands, at most ms; returns how many were still running. */
  async drain(ms: number): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => { timer = setTimeout(r, ms); })]);
    clearTimeout(timer);
    return this.inFlight.size;
  }

  private async handle(delivery: Delivery): Promise<void> {
    const m = delivery.message;
    const fallback: Addressing = {
      id: m.messageId ?? m.correlationId ?? 'unknown', command: 'unknown', replyTo: m.replyTo,
      correlationId: m.correlationId ?? m.messageId ?? 'unknown', codec: codecFor(m.contentType) ?? jsonCodec, echoCorrelation: false,
    };
    let addr = fallback;
    let reply: ReplyData | Deferred;
    try {
      if (m.body.length > this.d.maxMessageBytes) {
        throw new CommandError('BAD_REQUEST', `message of ${m.body.length} bytes exceeds the limit of ${this.d.maxMessageBytes} bytes`);
      }
      const codec = codecFor(m.contentType);
      if (!codec) throw new CommandError('BAD_REQUEST', `unsupported content type '${m.contentType}'`);
      const env = codec.decode(m.body);
      addr = {
        id: env.id, command: env.type, codec,
        replyTo: m.replyTo ?? env.replyto,
        correlationId: m.correlationId ?? env.correlationid ?? m.messageId ?? env.id,
        echoCorrelation: !m.replyTo && env.replyto !== undefined,
      };
      if (m.messageId && m.correlationId && m.messageId !== m.correlationId) {
        throw new CommandError('BAD_REQUEST', `message_id '${m.messageId}' and correlation_id '${m.correlationId}' differ`);
      }
      if (!env.type.startsWith(COMMAND_PREFIX)) {
        throw new CommandError('BAD_REQUEST', `type '${env.type}' is not a command (expected ${COMMAND_PREFIX}<command>)`);
      }
      const address: ReplyAddress = { id: addr.id, command: addr.command, ...(addr.replyTo && { replyTo: addr.replyTo }),
        correlationId: addr.correlationId, contentType: codec.contentType, echoCorrelation: addr.echoCorrelation };
      reply = await this.d.dispatcher.execute({
        id: env.id, name: env.type.slice(COMMAND_PREFIX.length), data: env.data ?? {}, deadline: env.deadline,
      }, { reply: address });
    } catch (e) {
      reply = { ok: false, error: toWireError(e) };
    }
    if (isDeferred(reply)) {
      // durably recorded by the job system: the broker may forget the delivery; the job replies when it ends
      this.d.log.info({ id: addr.id, command: addr.command, job: reply.job.state }, 'command accepted as a job');
      delivery.ack();
      return;
    }
    this.d.log[reply.ok ? 'info' : 'warn']({ id: addr.id, command: addr.command, ok: reply.ok, ...(!reply.ok && { error: reply.error }) }, 'command');
    await this.answer(addr, reply);
    delivery.ack();
  }

  /** Sends a job's final reply to the address its command came with. */
  async replyLater(address: ReplyAddress, reply: ReplyData): Promise<void> {
    const codec = codecFor(address.contentType) ?? jsonCodec;
    await this.answer({ ...address, codec }, reply);
  }

  private async answer(a: Addressing, reply: ReplyData): Promise<void> {
    if (!a.replyTo) {
      // Nobody waits for a reply: the outcome becomes an event.
      await this.d.publisher.enqueue({
        object: 'command', id: a.id, event: 'completed',
        data: { node: this.d.node, id: a.id, command: a.command, ...reply, at: new Date().toISOString() },
      });
      return;
    }
    const { body, contentType } = a.codec.encodeEvent({
      type: REPLY_TYPE, source: `virtbus://${this.d.node}`, subject: a.command, data: reply,
      extra: a.echoCorrelation ? { correlationid: a.correlationId } : {},
    });
    await this.d.transport.publishReply({ to: a.replyTo, correlationId: a.correlationId, body, contentType });
  }
}
