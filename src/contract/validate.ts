// JSON Schema validation of messages with Ajv, compiled at run time once per
// schema: for the tools, the tests and the SDK. The agent does not load it:
// it runs the same schemas compiled in advance (validators.ts).
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import type { TSchema } from '@sinclair/typebox';
import { describeErrors } from './schema-errors';

/** Ajv's options here and for the agent's generated validators (tools/contract/runtime-gen.ts). */
export const AJV_OPTIONS = { allErrors: true, strict: false, coerceTypes: false } as const;

const ajv = new Ajv(AJV_OPTIONS);
addFormats(ajv);

/** Returns a checker: undefined when valid, else a readable reason. */
export function validator(schema: TSchema): (value: unknown) => string | undefined {
  const check = ajv.compile(schema);
  return (value) => (check(value) ? undefined : describeErrors(check.errors));
}
