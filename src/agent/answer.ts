// A command's answer on its way out: the reply to the caller's address,
// encoded as the command was (JSON when its encoding cannot carry the
// reply), within the outgoing size limit (a larger result becomes an
// UNSUPPORTED error reply); or, when nobody asked for a reply, the command's
// completion event.
import type { Transport } from '../bus/transport';
import { jsonCodec, type MessageCodec } from '../codec/codec';
import { REPLY_TYPE } from '../contract/envelope';
import type { ReplyData } from '../contract/events';
import type { EventPublisher } from '../events/publisher';
import type { Logger } from '../log';
import type { ReplyAddress } from './reply-address';
import { traceAttributes, type TraceContext } from '../ops/trace';

const DEFAULT_MAX_OUTGOING = 16 * 1024 * 1024;

/** Where and how a command is answered, filled in as intake learns it. */
export interface Addressing {
  /** the command id, or (before it is known, or when it is unusable) a bounded stand-in */
  id: string;
  /** the command type when it is safe to repeat (reply subject), else '' */
  command: string;
  replyTo?: string;
  correlationId?: string;
  /** MQTT 5 Correlation Data, echoed byte for byte */
  correlationData?: Buffer;
  codec: MessageCodec;
  echoCorrelation: boolean;
  /** the reply address as a job keeps it, once the command was read */
  address?: ReplyAddress;
  /** the command's trace context (W3C), carried into its reply or completion event */
  trace?: TraceContext;
}

export interface AnswerDeps {
  node: string;
  transport: Transport;
  publisher: EventPublisher;
  log: Logger;
  /** a larger reply is replaced by an error reply (default 16 MiB) */
  maxOutgoingBytes?: number;
}

export class Answerer {
  constructor(private readonly d: AnswerDeps) {}

  /** Sends the reply to its address, or (no address) publishes the command's completion event. */
  async answer(a: Addressing, reply: ReplyData): Promise<void> {
    const limit = this.d.maxOutgoingBytes ?? DEFAULT_MAX_OUTGOING;
    if (!a.replyTo) {
      // Nobody waits for a reply: the outcome becomes an event (its result, if it fits).
      const size = reply.ok ? Buffer.byteLength(JSON.stringify(reply.result ?? null)) : 0;
      await this.d.publisher.enqueue({
        object: 'command',
        id: a.id,
        event: 'completed',
        data: {
          node: this.d.node,
          id: a.id,
          command: a.command,
          ...(size > limit - 4096 ? tooLarge(size, limit) : reply),
          at: new Date().toISOString(),
        },
        ...(a.trace && { trace: a.trace }),
      });
      return;
    }
    let body = this.encodeReply(a, reply);
    if (body.body.length > limit) body = this.encodeReply(a, tooLarge(body.body.length, limit));
    await this.d.transport.publishReply({
      to: a.replyTo,
      body: body.body,
      contentType: body.contentType,
      envelope: body.envelope,
      ...(a.correlationId !== undefined && { correlationId: a.correlationId }),
      ...(a.correlationData && { correlationData: a.correlationData }),
    });
  }

  private encodeReply(a: Addressing, reply: ReplyData) {
    try {
      return this.encodeWith(a.codec, a, reply);
    } catch (err) {
      // a reply the command's encoding cannot carry still goes out, as JSON
      this.d.log.warn(
        { err: { message: (err as Error).message }, id: a.id, trace_id: a.trace?.traceId },
        "reply not encodable as the command's content type; sent as JSON",
      );
      return this.encodeWith(jsonCodec, a, reply);
    }
  }

  private encodeWith(codec: MessageCodec, a: Addressing, reply: ReplyData) {
    return codec.encodeEvent({
      type: REPLY_TYPE,
      source: `virtbus://${this.d.node}`,
      ...(a.command && { subject: a.command }),
      data: reply,
      extra: {
        ...traceAttributes(a.trace),
        ...(a.echoCorrelation && a.correlationId !== undefined && { correlationid: a.correlationId }),
      },
    });
  }
}

function tooLarge(bytes: number, limit: number): ReplyData {
  return {
    ok: false,
    error: {
      code: 'UNSUPPORTED',
      message: `the result of ${bytes} bytes exceeds the outgoing message limit of ${limit} bytes (--max-outgoing-bytes)`,
    },
  };
}
