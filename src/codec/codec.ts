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

/** The media type of a Content-Type value: lower-case, without parameters ("Application/JSON; charset=utf-8" -> "application/json"). */
export function mediaType(contentType: string): string {
  return contentType.split(';')[0].trim().toLowerCase();
}

/** The codec for a content type (JSON when absent); undefined when unsupported. Media types compare whole, case-insensitively. */
export function codecFor(contentType: string | undefined): MessageCodec | undefined {
  if (contentType === undefined || contentType === '') return jsonCodec;
  const t = mediaType(contentType);
  if (t === CE_JSON || t === 'application/json') return jsonCodec;
  if (t === CE_PROTOBUF) return protobufCodec;
  return undefined;
}

export type Encoding = 'json' | 'protobuf';
export function codecByName(e: Encoding): MessageCodec {
  return codecFor(e === 'protobuf' ? CE_PROTOBUF : CE_JSON)!;
}
