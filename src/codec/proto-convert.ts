// Contract JSON values <-> protobuf messages, driven by the same schema the
// .proto was rendered from (src/contract/proto-schema.ts), so nothing is lost
// either way: unknown-typed fields travel as JSON text, fields a schema does
// not name travel in extra_json, libvirt statistics as ScalarValue maps.
import type { TSchema } from '@sinclair/typebox';
import { fieldKind, objectShape, type FieldKind } from '../contract/proto-schema';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON Schema node: any keyword may hold anything
type S = Record<string, any>;
type Obj = Record<string, unknown>;

const isLong = (v: unknown): v is { toNumber(): number } =>
  typeof v === 'object' && v !== null && typeof (v as { toNumber?: unknown }).toNumber === 'function';

function scalarToProto(v: unknown): Obj {
  if (typeof v === 'number') return { number_value: v };
  if (typeof v === 'boolean') return { bool_value: v };
  return { string_value: String(v) };
}
function scalarFromProto(v: Obj): unknown {
  const own = (k: string) => Object.prototype.hasOwnProperty.call(v, k) && v[k] !== null && v[k] !== undefined;
  if (own('number_value')) return Number(v.number_value);
  if (own('bool_value')) return v.bool_value;
  return v.string_value;
}

function valueToProto(f: FieldKind, v: unknown): unknown {
  switch (f.k) {
    case 'scalar':
      return v;
    case 'json':
      return JSON.stringify(v);
    case 'message':
      return toProto(f.schema as TSchema, v as Obj);
    case 'repeated':
      return (v as unknown[]).map((x) => valueToProto(f.of, x));
    case 'map':
      return Object.fromEntries(
        Object.entries(v as Obj).map(([k, x]) => [k, f.value.k === 'anyScalar' ? scalarToProto(x) : x]),
      );
  }
}

function valueFromProto(f: FieldKind, v: unknown): unknown {
  switch (f.k) {
    case 'scalar':
      return isLong(v) ? v.toNumber() : v;
    case 'json':
      return JSON.parse(v as string);
    case 'message':
      return fromProto(f.schema as TSchema, v as Obj);
    case 'repeated':
      return ((v as unknown[]) ?? []).map((x) => valueFromProto(f.of, x));
    case 'map':
      return Object.fromEntries(
        Object.entries((v as Obj) ?? {}).map(([k, x]) => [
          k,
          f.value.k === 'anyScalar' ? scalarFromProto(x as Obj) : isLong(x) ? x.toNumber() : x,
        ]),
      );
  }
}

/** A plain object for Type.encode (protobufjs accepts plain objects). */
export function toProto(schema: TSchema, value: Obj): Obj {
  const { props, extra } = objectShape(schema as S);
  const out: Obj = {};
  const named = new Set<string>();
  for (const [key, s] of props) {
    named.add(key);
    if (value[key] === undefined) continue;
    out[key] = valueToProto(fieldKind(s, key), value[key]);
  }
  if (extra) {
    const rest = Object.fromEntries(Object.entries(value).filter(([k]) => !named.has(k)));
    if (Object.keys(rest).length) out.extra_json = JSON.stringify(rest);
  }
  return out;
}

/** The contract value of a decoded message; absent optional fields stay absent. */
export function fromProto(schema: TSchema, msg: Obj): Obj {
  const { props, extra } = objectShape(schema as S);
  const out: Obj = {};
  const has = (k: string) => Object.prototype.hasOwnProperty.call(msg, k) && msg[k] !== null && msg[k] !== undefined;
  for (const [key, s, required] of props) {
    const f = fieldKind(s, key);
    if (f.k === 'repeated' || f.k === 'map') {
      // protobuf cannot tell an absent list/map from an empty one: optional and empty means absent
      const size = has(key) ? Object.keys(msg[key] as object).length : 0;
      if (required || size > 0) out[key] = valueFromProto(f, msg[key]);
      continue;
    }
    if (!required && !has(key)) continue;
    // proto3 leaves defaults off the wire: a required scalar is its default then
    out[key] = has(key) ? valueFromProto(f, msg[key]) : defaultOf(f);
  }
  if (extra && has('extra_json')) Object.assign(out, JSON.parse(msg.extra_json as string));
  return out;
}

function defaultOf(f: FieldKind): unknown {
  if (f.k === 'scalar') return f.proto === 'string' ? '' : f.proto === 'bool' ? false : 0;
  if (f.k === 'message') return fromProto(f.schema as TSchema, {});
  return undefined;
}
