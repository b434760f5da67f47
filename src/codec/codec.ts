// Encoding of replies and events, and decoding of commands, for one
// content type. JSON (structured CloudEvents) now; protobuf plugs in here.
import { CE_JSON, CE_PROTOBUF, type CloudEvent } from '../contract/envelope';
import { decodeJsonEnvelope, encodeJsonEnvelope, newEnvelope } from './json';
import { protobufCodec } from './protobuf';

export interface EncodedMessage { body: Buffer; contentType: string; id: string }

export interface OutgoingEvent { type: string; source: string; subject?: string; data: unknown; extra?: Partial<CloudEvent> }

export interface MessageCodec {
  readonly contentType: string;
  decode(body: Buffer): CloudEvent;
  encodeEvent(e: OutgoingEvent): EncodedMessage;
}

export const jsonCodec: MessageCodec = {
  contentType: CE_JSON,
  decode: decodeJsonEnvelope,
  encodeEvent(e) {
    const env = newEnvelope(e.type, e.source, e.data, { ...(e.subject && { subject: e.subject }), ...e.extra });
    return { ...encodeJsonEnvelope(env), id: env.id };
  },
};

/** The codec for a content type (JSON when absent); undefined when unsupported. */
export function codecFor(contentType: string | undefined): MessageCodec | undefined {
  if (!contentType || contentType.startsWith(CE_JSON) || contentType.startsWith('application/json')) return jsonCodec;
  if (contentType.startsWith(CE_PROTOBUF)) return protobufCodec;
  return undefined;
}

export type Encoding = 'json' | 'protobuf';
export function codecByName(e: Encoding): MessageCodec {
  return codecFor(e === 'protobuf' ? CE_PROTOBUF : CE_JSON)!;
}
