// CloudEvents protobuf format (application/cloudevents+protobuf): the
// envelope is io.cloudevents.v1.CloudEvent; `data` is a virtbus.v1 message in
// proto_data (google.protobuf.Any) where proto/ has one for the type, else
// JSON in text_data.
import { randomUUID } from 'node:crypto';
import protobuf from 'protobufjs';
import { Type as T, type TSchema } from '@sinclair/typebox';
import { COMMANDS, type CommandName } from '../contract/commands';
import { CE_PROTOBUF, CloudEvent } from '../contract/envelope';
import { EVENT_MESSAGES, ErrorSchema, PROTO_PACKAGE, commandMessage, dataMessageFor } from '../contract/proto-gen';
import { validator } from '../contract/validate';
import { CommandError } from '../errors';
import type { EncodedMessage, MessageCodec, OutgoingEvent } from './codec';
import { descriptor } from './gen/virtbus.gen';
import { fromProto, toProto } from './proto-convert';

const root = protobuf.Root.fromJSON(descriptor as unknown as protobuf.INamespace);
const CE = root.lookupType('io.cloudevents.v1.CloudEvent');
const TYPE_URL_PREFIX = 'type.googleapis.com/';
const checkEnvelope = validator(CloudEvent);

/** message name -> the schema it was rendered from */
const schemas = new Map<string, TSchema>();
for (const c of Object.keys(COMMANDS) as CommandName[]) {
  schemas.set(commandMessage(c, 'Data'), COMMANDS[c].data);
  schemas.set(commandMessage(c, 'Result'), COMMANDS[c].result);
  schemas.set(commandMessage(c, 'Reply'), T.Object({ ok: T.Boolean(), result: T.Optional(COMMANDS[c].result), error: T.Optional(ErrorSchema) }));
}
for (const [n, s] of Object.entries(EVENT_MESSAGES)) schemas.set(n, s);

const TIME_ATTRS = new Set(['time', 'deadline']);
const CORE = new Set(['specversion', 'id', 'source', 'type', 'data']);

type Attr = { ce_string?: string; ce_boolean?: boolean; ce_integer?: number; ce_uri?: string; ce_uri_ref?: string; ce_timestamp?: { seconds: number | { toNumber(): number }; nanos: number }; ce_bytes?: Uint8Array };

function attrToProto(name: string, v: unknown): Attr {
  if (TIME_ATTRS.has(name) && typeof v === 'string' && !Number.isNaN(Date.parse(v))) {
    const ms = Date.parse(v);
    return { ce_timestamp: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 } };
  }
  if (typeof v === 'boolean') return { ce_boolean: v };
  if (typeof v === 'number' && Number.isInteger(v)) return { ce_integer: v };
  return { ce_string: String(v) };
}

function attrFromProto(a: Attr | null | undefined): unknown {
  // An attribute entry with no value at all (map entry without its message): absent.
  if (a === null || a === undefined) return undefined;
  // decoded messages carry unset oneof members as prototype defaults: look at own fields only
  const own = (k: keyof Attr) => Object.prototype.hasOwnProperty.call(a, k) && a[k] !== null && a[k] !== undefined;
  if (own('ce_timestamp')) {
    const s = a.ce_timestamp!.seconds;
    const secs = typeof s === 'number' ? s : s.toNumber();
    return new Date(secs * 1000 + Math.round((a.ce_timestamp!.nanos ?? 0) / 1e6)).toISOString();
  }
  if (own('ce_boolean')) return a.ce_boolean;
  if (own('ce_integer')) return a.ce_integer;
  if (own('ce_bytes')) return Buffer.from(a.ce_bytes!).toString('base64');
  return a.ce_string ?? a.ce_uri ?? a.ce_uri_ref;
}

export function encodeProtobufEnvelope(env: CloudEvent): Buffer {
  const attributes: Record<string, Attr> = {};
  for (const [k, v] of Object.entries(env)) if (!CORE.has(k) && v !== undefined) attributes[k] = attrToProto(k, v);
  const msg: Record<string, unknown> = { id: env.id, source: env.source, spec_version: env.specversion, type: env.type, attributes };
  if (env.data !== undefined) {
    const name = dataMessageFor(env.type, env.subject);
    if (name) {
      const type = root.lookupType(`${PROTO_PACKAGE}.${name}`);
      const value = type.encode(toProto(schemas.get(name)!, env.data as Record<string, unknown>)).finish();
      msg.proto_data = { type_url: `${TYPE_URL_PREFIX}${PROTO_PACKAGE}.${name}`, value };
    } else {
      msg.text_data = JSON.stringify(env.data);
    }
  }
  return Buffer.from(CE.encode(msg).finish());
}

/** Decodes and validates; anything malformed is BAD_REQUEST, never a crash. */
export function decodeProtobufEnvelope(body: Buffer): CloudEvent {
  let m: Record<string, any>;
  const env: Record<string, unknown> = {};
  try {
    m = CE.decode(body) as unknown as Record<string, any>;
    Object.assign(env, { specversion: m.spec_version, id: m.id, source: m.source, type: m.type });
    // Attribute names are the sender's: a map key like __proto__ must stay data.
    for (const [k, a] of Object.entries((m.attributes ?? {}) as Record<string, Attr | null>)) {
      const v = attrFromProto(a);
      if (!CORE.has(k) && v !== undefined) Object.defineProperty(env, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
  } catch (e) {
    throw new CommandError('BAD_REQUEST', `message is not a protobuf CloudEvent: ${(e as Error).message}`);
  }
  const ownData = (k: string) => Object.prototype.hasOwnProperty.call(m, k) && m[k] !== null && m[k] !== undefined;
  if (ownData('proto_data')) {
    const url: string = m.proto_data.type_url ?? '';
    const name = url.startsWith(`${TYPE_URL_PREFIX}${PROTO_PACKAGE}.`) ? url.slice(`${TYPE_URL_PREFIX}${PROTO_PACKAGE}.`.length) : '';
    const expected = dataMessageFor(String(env.type), env.subject as string | undefined);
    if (!name || !schemas.has(name)) throw new CommandError('BAD_REQUEST', `unknown protobuf data type '${url}'`);
    if (expected && name !== expected) throw new CommandError('BAD_REQUEST', `data type ${name} does not match event type ${String(env.type)} (expected ${expected})`);
    try {
      const decoded = root.lookupType(`${PROTO_PACKAGE}.${name}`).decode(m.proto_data.value) as unknown as Record<string, unknown>;
      env.data = fromProto(schemas.get(name)!, decoded);
    } catch (e) {
      throw new CommandError('BAD_REQUEST', `data is not a valid ${name}: ${(e as Error).message}`);
    }
  } else if (ownData('text_data')) {
    try {
      env.data = JSON.parse(m.text_data);
    } catch {
      env.data = m.text_data;
    }
  } else if (ownData('binary_data')) {
    env.data = Buffer.from(m.binary_data).toString('base64');
  }
  const errors = checkEnvelope(env);
  if (errors) throw new CommandError('BAD_REQUEST', `protobuf message is not a CloudEvents 1.0 envelope: ${errors}`);
  return env as CloudEvent;
}

export const protobufCodec: MessageCodec = {
  contentType: CE_PROTOBUF,
  decode: decodeProtobufEnvelope,
  encodeEvent(e: OutgoingEvent): EncodedMessage {
    const env: CloudEvent = { specversion: '1.0', id: randomUUID(), source: e.source, type: e.type, time: new Date().toISOString(),
      ...(e.subject && { subject: e.subject }), ...e.extra, data: e.data };
    return { body: encodeProtobufEnvelope(env), contentType: CE_PROTOBUF, id: env.id };
  },
};
