// What every codec is: one content type, commands decoded, replies and events encoded.
import type { CloudEvent } from '../contract/envelope';

export interface EncodedMessage {
  body: Buffer;
  contentType: string;
  id: string;
  /** structured JSON: the envelope the body encodes (a transport that sends another form builds it from this) */
  envelope?: Readonly<CloudEvent>;
}

export interface OutgoingEvent {
  type: string;
  source: string;
  subject?: string;
  data: unknown;
  extra?: Partial<CloudEvent>;
}

export interface MessageCodec {
  readonly contentType: string;
  decode(body: Buffer): CloudEvent;
  encodeEvent(e: OutgoingEvent): EncodedMessage;
}
