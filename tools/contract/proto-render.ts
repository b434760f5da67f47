// proto3 text of a message for a contract schema (the field kinds come from
// src/contract/proto-schema.ts, which the codec uses at run time too).
import type { TSchema } from '@sinclair/typebox';
import { fieldKind, objectShape, type FieldKind } from '../../src/contract/proto-schema';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON Schema node: any keyword may hold anything
type S = Record<string, any>;

function typeName(f: FieldKind): string {
  switch (f.k) {
    case 'scalar':
      return f.proto;
    case 'json':
      return 'string';
    case 'message':
      return f.name;
    case 'repeated':
      return typeName(f.of);
    case 'map':
      return `map<string, ${f.value.k === 'anyScalar' ? 'virtbus.v1.ScalarValue' : typeName(f.value as FieldKind)}>`;
  }
}

/** proto3 text of a message (with nested messages) for schema s. */
export function renderMessage(name: string, s: TSchema, indent = ''): string {
  const { props, extra } = objectShape(s as S);
  const lines: string[] = [];
  const nested: string[] = [];
  props.forEach(([key, schema, required], i) => {
    const f = fieldKind(schema, key);
    const inner = f.k === 'repeated' ? f.of : f;
    if (inner.k === 'message') nested.push(renderMessage(inner.name, inner.schema as TSchema, `${indent}  `));
    const label = f.k === 'repeated' ? 'repeated ' : f.k === 'map' ? '' : required ? '' : 'optional ';
    const comment = f.k === 'json' ? ' // JSON text' : '';
    lines.push(`${indent}  ${label}${typeName(f)} ${key} = ${i + 1};${comment}`);
  });
  if (extra)
    lines.push(`${indent}  optional string extra_json = 1000; // JSON object of the fields the schema does not name`);
  return [`${indent}message ${name} {`, ...nested, ...lines, `${indent}}`].join('\n');
}
