// JSON Schema (TypeBox) -> proto3 field kinds, shared by the codec at run time
// (src/codec/proto-convert.ts) and the generator that renders proto/virtbus/v1/
// (tools/contract/proto-render.ts), so JSON and protobuf carry the same
// information. Rules:
//   string / string literals      -> string        integer -> int64
//   number                        -> double        boolean -> bool
//   object                        -> message (nested, named after the field)
//   array                         -> repeated
//   Record<string, scalar>        -> map<string, scalar>
//   Record<string, a|b|c>         -> map<string, ScalarValue>
//   union of objects              -> one message with every member's fields, all optional
//   unknown                       -> string holding JSON text
//   additionalProperties not false -> string extra_json = 1000 (what the schema does not name)
// Field numbers follow declaration order: new fields are appended, never inserted.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON Schema node: any keyword may hold anything
type S = Record<string, any>;

export function pascal(s: string): string {
  return s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join('');
}

export type FieldKind =
  | { k: 'scalar'; proto: 'string' | 'int64' | 'double' | 'bool' }
  | { k: 'json' }
  | { k: 'message'; schema: S; name: string }
  | { k: 'repeated'; of: FieldKind }
  | { k: 'map'; value: FieldKind | { k: 'anyScalar' } };

const isStringish = (s: S): boolean =>
  s.type === 'string' ||
  (s.const !== undefined && typeof s.const === 'string') ||
  (Array.isArray(s.anyOf) && s.anyOf.every(isStringish));
const isObjectUnion = (s: S): boolean => Array.isArray(s.anyOf) && s.anyOf.every((m: S) => m.type === 'object');

/** The properties of an object schema, or of all members of an object union (merged, all optional). */
export function objectShape(s: S): { props: Array<[string, S, boolean]>; extra: boolean } {
  if (isObjectUnion(s)) {
    const seen = new Map<string, S>();
    let extra = false;
    for (const m of s.anyOf as S[]) {
      const shape = objectShape(m);
      extra ||= shape.extra;
      for (const [k, v] of shape.props) if (!seen.has(k)) seen.set(k, v);
    }
    return { props: [...seen].map(([k, v]) => [k, v, false]), extra };
  }
  const required = new Set<string>(s.required ?? []);
  return {
    props: Object.entries((s.properties ?? {}) as Record<string, S>).map(([k, v]) => [k, v, required.has(k)]),
    // JSON Schema allows unnamed fields unless additionalProperties is false: so must the proto
    extra: s.additionalProperties !== false,
  };
}

export function fieldKind(s: S, name: string): FieldKind {
  if (isStringish(s)) return { k: 'scalar', proto: 'string' };
  if (s.type === 'integer') return { k: 'scalar', proto: 'int64' };
  if (s.type === 'number') return { k: 'scalar', proto: 'double' };
  if (s.type === 'boolean') return { k: 'scalar', proto: 'bool' };
  if (s.type === 'array') return { k: 'repeated', of: fieldKind(s.items, name) };
  if (s.type === 'object' && s.patternProperties) {
    const v = Object.values(s.patternProperties)[0] as S;
    const inner = fieldKind(v, name);
    return { k: 'map', value: inner.k === 'scalar' ? inner : { k: 'anyScalar' } };
  }
  if (s.type === 'object' || isObjectUnion(s)) return { k: 'message', schema: s, name: pascal(name) };
  if (Array.isArray(s.anyOf) && s.anyOf.every((m: S) => ['number', 'string', 'boolean', 'integer'].includes(m.type))) {
    return { k: 'json' };
  }
  return { k: 'json' };
}
