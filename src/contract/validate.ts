// JSON Schema validation of messages with Ajv, compiled once per schema.
import Ajv, { type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import type { TSchema } from '@sinclair/typebox';
import { quote } from './text';

const bounded = (s: string) => (s.length > 96 ? `${s.slice(0, 96)}…` : s);

const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: false });
addFormats(ajv);

function describe(errors: ErrorObject[] | null | undefined): string {
  // Paths and property names are the sender's: bounded, so a reply never echoes unbounded input.
  const lines = (errors ?? []).map(
    (e) =>
      `${bounded(e.instancePath || '(root)')} ${e.message}${e.params && 'additionalProperty' in e.params ? ` ${quote(String(e.params.additionalProperty))}` : ''}`,
  );
  return [...new Set(lines)].slice(0, 6).join('; ');
}

/** Returns a checker: undefined when valid, else a readable reason. */
export function validator(schema: TSchema): (value: unknown) => string | undefined {
  const check = ajv.compile(schema);
  return (value) => (check(value) ? undefined : describe(check.errors));
}
