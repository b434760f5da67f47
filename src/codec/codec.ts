// The codecs by content type: structured JSON and protobuf CloudEvents. A
// new encoding is a file beside json.ts and protobuf.ts plus one line here.
import { CE_JSON, CE_PROTOBUF } from '../contract/envelope';
import { jsonCodec } from './json';
import type { MessageCodec } from './types';

export { jsonCodec };
export type { EncodedMessage, MessageCodec, OutgoingEvent } from './types';

/** The media type of a Content-Type value: lower-case, without parameters ("Application/JSON; charset=utf-8" -> "application/json"). */
export function mediaType(contentType: string): string {
  return contentType.split(';')[0].trim().toLowerCase();
}

/**
 * protobufjs and the descriptor are loaded at the first protobuf message, not
 * at start: most agents never see one (memory, start time).
 */
let protobuf: MessageCodec | undefined;
function loadProtobuf(): MessageCodec {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded at first use
  protobuf ??= (require('./protobuf') as typeof import('./protobuf')).protobufCodec;
  return protobuf;
}
const protobufCodec: MessageCodec = {
  contentType: CE_PROTOBUF,
  decode: (body) => loadProtobuf().decode(body),
  encodeEvent: (e) => loadProtobuf().encodeEvent(e),
};

/** The codec for a content type (JSON when absent); undefined when unsupported. Media types compare whole, case-insensitively. */
export function codecFor(contentType: string | undefined): MessageCodec | undefined {
  if (contentType === undefined || contentType === '' || contentType === CE_JSON) return jsonCodec;
  // as every command and reply names it: no split, trim and lower-casing per message
  if (contentType === CE_PROTOBUF) return protobufCodec;
  const t = mediaType(contentType);
  if (t === CE_JSON || t === 'application/json') return jsonCodec;
  if (t === CE_PROTOBUF) return protobufCodec;
  return undefined;
}

export type Encoding = 'json' | 'protobuf';
export function codecByName(e: Encoding): MessageCodec {
  return codecFor(e === 'protobuf' ? CE_PROTOBUF : CE_JSON)!;
}
