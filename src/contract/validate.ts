// JSON Schema validation of messages with Ajv, compiled once per schema.
import Ajv, { type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import type { TSchema } from '@sinclair/typebox';

const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: false });
addFormats(ajv);

function describe(errors: ErrorObject[] | null | undefined): string {
  const lines = (errors ?? [])
    .map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` '${e.params.additionalProperty}'` : ''}`);
  return [...new Set(lines)].slice(0, 6).join('; ');
}

/** Returns a checker: undefined when valid, else a readable reason. */
export function validator(schema: TSchema): (value: unknown) => string | undefined {
  const check = ajv.compile(schema);
  return (value) => (check(value) ? undefined : describe(check.errors));
}
