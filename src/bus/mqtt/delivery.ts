// Turns an inbound MQTT PUBLISH into the transport-neutral Delivery.
import { CE_JSON } from '../../contract/envelope';
import type { Delivery, InboundMessage } from '../transport';
import { isBinary, isStructuredJson, toStructured } from './cloudevents';
import type { InboundPacket } from './session';

type Warn = (msg: string, detail?: unknown) => void;

export function toInboundMessage(
  p: InboundPacket,
  origin: InboundMessage['origin'],
  protocolVersion: 4 | 5,
  warn: Warn,
): InboundMessage {
  let body = Buffer.isBuffer(p.payload) ? p.payload : Buffer.from(p.payload);
  // MQTT 3.1.1 has no properties: everything is in the structured envelope
  // (replyto, correlationid), which the agent reads.
  if (protocolVersion === 4) return { body, headers: {}, redelivered: p.dup, origin };
  const props = p.properties ?? {};
  let contentType = props.contentType;
  if (!isStructuredJson(contentType) && isBinary(props.userProperties)) {
    try {
      body = toStructured({ payload: body, contentType, userProperties: props.userProperties! });
      contentType = CE_JSON;
    } catch (err) {
      // The agent's codec rejects it as it stands and replies BAD_REQUEST.
      warn(`MQTT: binary-mode command on ${p.topic} has a payload that is not its content type ${contentType}`, err);
    }
  }
  return {
    body,
    contentType,
    correlationId: props.correlationData ? Buffer.from(props.correlationData).toString('utf8') : undefined,
    ...(props.correlationData && { correlationData: Buffer.from(props.correlationData) }),
    replyTo: props.responseTopic,
    headers: { ...(props.userProperties ?? {}) },
    redelivered: p.dup,
    origin,
  };
}

/**
 * ack and reject both send the PUBACK (MQTT has no negative acknowledgement
 * for a client to give; reject = take it off the broker and drop it). Both
 * go through `settle`, which is bound to the connection the message came on:
 * a PUBACK on a newer connection would hit whatever now uses that packet id.
 * A second settle is ignored with a warning.
 */
export function toDelivery(
  message: InboundMessage,
  settle: (how: 'ack' | 'reject') => void,
  warn: Warn,
  what: string,
): Delivery {
  let settled = false;
  const once = (how: 'ack' | 'reject') => {
    if (settled) {
      warn(`MQTT: delivery ${what} settled twice; ignoring ${how}`);
      return;
    }
    settled = true;
    settle(how);
  };
  return { message, ack: () => once('ack'), reject: () => once('reject'), deadLetters: false };
}
