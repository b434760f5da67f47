// CloudEvents structured JSON mode: bytes <-> envelope.
import { randomUUID } from 'node:crypto';
import { CE_JSON, type CloudEvent } from '../contract/envelope';
import { CommandError } from '../contract/errors';
import { checkEnvelope } from '../contract/validators';
import type { MessageCodec } from './types';

/** Parses and validates a structured-mode CloudEvent; throws BAD_REQUEST with the reason. */
export function decodeJsonEnvelope(body: Buffer): CloudEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new CommandError('BAD_REQUEST', `message is not valid JSON: ${(e as Error).message}`);
  }
  const errors = checkEnvelope(parsed);
  if (errors) throw new CommandError('BAD_REQUEST', `message is not a CloudEvents 1.0 envelope: ${errors}`);
  return parsed as CloudEvent;
}

export function encodeJsonEnvelope(e: CloudEvent): { body: Buffer; contentType: string } {
  return { body: Buffer.from(JSON.stringify(e)), contentType: CE_JSON };
}

export function newEnvelope(type: string, source: string, data: unknown, extra: Partial<CloudEvent> = {}): CloudEvent {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source,
    type,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data,
    ...extra,
  };
}

export const jsonCodec: MessageCodec = {
  contentType: CE_JSON,
  decode: decodeJsonEnvelope,
  encodeEvent(e) {
    // no spread chains on every reply and event (bench/RESULTS.md, ninth session)
    const env = newEnvelope(e.type, e.source, e.data, e.subject ? { subject: e.subject, ...e.extra } : e.extra);
    const { body, contentType } = encodeJsonEnvelope(env);
    return { body, contentType, id: env.id, envelope: env };
  },
};
