// Ajv's errors as one readable, bounded line: the same text whether the
// schema was compiled at run time (validate.ts) or in advance
// (validators.ts, generated code).
import { quote } from './text';

/** The part of an Ajv error the text is made of. */
export interface SchemaError {
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
}

const bounded = (s: string) => (s.length > 96 ? `${s.slice(0, 96)}…` : s);

export function describeErrors(errors: readonly SchemaError[] | null | undefined): string {
  // Paths and property names are the sender's: bounded, so a reply never echoes unbounded input.
  const lines = (errors ?? []).map(
    (e) =>
      `${bounded(e.instancePath || '(root)')} ${e.message}${e.params && 'additionalProperty' in e.params ? ` ${quote(String(e.params.additionalProperty))}` : ''}`,
  );
  return [...new Set(lines)].slice(0, 6).join('; ');
}
