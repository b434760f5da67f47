// Turns an amqplib message into the transport-neutral Delivery.
import type { Channel, ConsumeMessage } from 'amqplib';
import type { Delivery, InboundMessage } from '../transport';

/** AMQP properties are typed `any` by amqplib; only strings are meaningful here. */
function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return undefined;
}

export function toInboundMessage(msg: ConsumeMessage, origin: InboundMessage['origin']): InboundMessage {
  const p = msg.properties;
  return {
    body: msg.content,
    contentType: str(p.contentType),
    messageId: str(p.messageId),
    correlationId: str(p.correlationId),
    replyTo: str(p.replyTo),
    headers: { ...(p.headers ?? {}) },
    redelivered: msg.fields.redelivered,
    origin,
    ...(p.userId !== undefined && { userId: str(p.userId) }),
  };
}

/**
 * ack/reject are bound to the channel the message came on: delivery tags
 * are per channel, so acking on a newer channel would settle some other
 * message. If that channel is gone, settling is a no-op — the broker has
 * already put the message back and will redeliver it (redelivered=true).
 * A second settle is ignored too: acking a tag twice is a channel error
 * that would tear down the connection.
 */
export function toDelivery(
  msg: ConsumeMessage,
  origin: InboundMessage['origin'],
  ch: Channel,
  channelOpen: () => boolean,
  warn: (msg: string, detail?: unknown) => void,
): Delivery {
  let settled = false;
  const settle = (how: 'ack' | 'reject') => {
    if (settled) {
      warn(`delivery ${msg.fields.deliveryTag} (${origin}) settled twice; ignoring ${how}`);
      return;
    }
    settled = true;
    if (!channelOpen()) return;
    try {
      // reject = nack without requeue: the queue's dead-letter exchange gets it.
      if (how === 'ack') ch.ack(msg);
      else ch.nack(msg, false, false);
    } catch {
      // The channel closed between the check and the call; same as above.
    }
  };
  return {
    message: toInboundMessage(msg, origin),
    ack: () => settle('ack'),
    reject: () => settle('reject'),
    deadLetters: true,
  };
}
