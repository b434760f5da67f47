// The CloudEvents MQTT protocol binding, binary content mode (MQTT 5 only).
// Binary mode puts the event's data in the payload and every other
// attribute into a User Property, so a plain MQTT consumer reads the data as
// is and brokers/bridges can route on attributes without parsing JSON.
//
// The agent's codec speaks structured JSON only; the transport converts at
// the edge: outbound structured JSON -> binary, inbound binary -> structured
// JSON. Anything that is not structured JSON (protobuf) passes through in
// structured mode, which the binding allows for every content type.
import type { IClientPublishOptions } from 'mqtt';
import { CE_JSON, type CloudEvent } from '../../contract/envelope';
import { hasControlCharacter, isWellFormedUnicode } from '../../contract/text';

type UserProperties = Record<string, string | string[]>;

export interface BinaryMessage {
  payload: Buffer;
  /** the data's content type (the CE datacontenttype) */
  contentType?: string;
  userProperties: UserProperties;
}

/** CloudEvents attribute names: lower-case letters and digits. Other user properties are not attributes. */
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;

export function isStructuredJson(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.split(';')[0].trim().toLowerCase() === CE_JSON;
}

function isJsonType(contentType: string): boolean {
  const t = contentType.split(';')[0].trim().toLowerCase();
  return t === 'application/json' || t === 'text/json' || t.endsWith('+json');
}

function isTextType(contentType: string): boolean {
  const t = contentType.split(';')[0].trim().toLowerCase();
  return t.startsWith('text/') || t === 'application/xml' || t.endsWith('+xml');
}

/** The binding's canonical string form of an attribute value. */
function attributeString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  // Not a CloudEvents type; keep it readable rather than "[object Object]".
  return JSON.stringify(v);
}

/**
 * Structured JSON envelope -> binary mode. Returns undefined when the body
 * is not a JSON object with specversion: then it goes out as it came.
 */
export function toBinary(body: Buffer): BinaryMessage | undefined {
  let env: unknown;
  try {
    env = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  return envelopeToBinary(env);
}

/**
 * The same from the envelope object itself, as the codec built it before
 * encoding: what toBinary makes of its JSON, without parsing the body back
 * (our own envelopes hold only strings besides `data`, so the JSON round trip
 * changes nothing; test/bus/mqtt/cloudevents.test.ts checks both agree).
 */
export function envelopeToBinary(env: unknown): BinaryMessage | undefined {
  if (typeof env !== 'object' || env === null || Array.isArray(env) || !('specversion' in env)) return undefined;
  const { data, data_base64: dataBase64, datacontenttype, ...attributes } = env as Record<string, unknown>;
  const userProperties: UserProperties = {};
  for (const [k, v] of Object.entries(attributes)) {
    if (v !== undefined && v !== null) userProperties[k] = attributeString(v);
  }
  let contentType = typeof datacontenttype === 'string' ? datacontenttype : undefined;
  let payload: Buffer;
  if (typeof dataBase64 === 'string') {
    payload = Buffer.from(dataBase64, 'base64');
    contentType ??= 'application/octet-stream';
  } else if (data === undefined) {
    payload = Buffer.alloc(0);
  } else if (typeof data === 'string' && contentType !== undefined && !isJsonType(contentType)) {
    payload = Buffer.from(data, 'utf8');
  } else {
    // JSON event format: data without datacontenttype is JSON.
    payload = Buffer.from(JSON.stringify(data));
    contentType ??= 'application/json';
  }
  return { payload, contentType, userProperties };
}

/**
 * Whether every attribute can travel as a User Property: an MQTT UTF-8
 * string of at most 65,535 bytes, without the control characters Mosquitto
 * refuses as malformed. mqtt-packet throws half-way through writing an
 * over-long one, and a refused one costs the connection; either way the
 * message could never be sent. Structured mode carries anything JSON can.
 */
export function fitsUserProperties(userProperties: UserProperties): boolean {
  for (const [k, v] of Object.entries(userProperties)) {
    for (const s of [k, ...(Array.isArray(v) ? v : [v])]) {
      if (Buffer.byteLength(s) > 65535 || hasControlCharacter(s) || !isWellFormedUnicode(s)) return false;
    }
  }
  return true;
}

/** An inbound MQTT 5 message is in binary mode when it carries specversion as a user property. */
export function isBinary(userProperties: UserProperties | undefined): boolean {
  return userProperties !== undefined && userProperties.specversion !== undefined;
}

/**
 * Binary mode -> structured JSON envelope (for the agent's one codec).
 * Throws when the payload does not parse as its declared JSON content type.
 */
export function toStructured(m: BinaryMessage): Buffer {
  const env: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m.userProperties)) {
    // A repeated user property: the binding maps attributes one to one, so the first wins.
    if (ATTRIBUTE_NAME.test(k)) env[k] = Array.isArray(v) ? v[0] : v;
  }
  if (m.contentType) env.datacontenttype = m.contentType;
  if (m.payload.length > 0) {
    const type = m.contentType ?? 'application/json';
    if (isJsonType(type)) env.data = JSON.parse(m.payload.toString('utf8'));
    else if (isTextType(type)) env.data = m.payload.toString('utf8');
    else env.data_base64 = m.payload.toString('base64');
  }
  return Buffer.from(JSON.stringify(env));
}

/**
 * What goes on the wire for a CloudEvent body: MQTT 5 carries it in binary
 * mode (data as payload, attributes as user properties); 3.1.1 has no
 * properties, so there the structured envelope goes as it is. Non-JSON
 * formats (protobuf), and attributes User Properties cannot carry, stay structured.
 */
export function mqttPayload(
  protocolVersion: 4 | 5,
  body: Buffer,
  contentType: string,
  /** the envelope `body` encodes, when the codec kept it: spares parsing the body back */
  envelope?: Readonly<CloudEvent>,
): { payload: Buffer; properties?: IClientPublishOptions['properties'] } {
  if (protocolVersion === 4) return { payload: body };
  let binary: BinaryMessage | undefined;
  if (isStructuredJson(contentType)) binary = envelope ? envelopeToBinary(envelope) : toBinary(body);
  if (!binary || !fitsUserProperties(binary.userProperties)) return { payload: body, properties: { contentType } };
  return {
    payload: binary.payload,
    properties: {
      userProperties: binary.userProperties,
      ...(binary.contentType && { contentType: binary.contentType }),
    },
  };
}
