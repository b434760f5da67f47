// What a command declaration is, and the helpers every command family uses.
import { Type as T, type TSchema } from '@sinclair/typebox';
import type { CommandFlags } from './command-flags';
import { DomainRef } from './shapes';

export interface CommandSpec extends CommandFlags {
  data: TSchema;
  result: TSchema;
  /** the object the command is about, for per-object ordering */
  summary: string;
}

export const cmd = <D extends TSchema, R extends TSchema>(
  summary: string,
  data: D,
  result: R,
  mutating: boolean,
  planned = false,
) => ({ summary, data, result, mutating, planned });

/** The same declaration, marked long-running (a job). */
export const asJob = <S extends ReturnType<typeof cmd>, J extends 'always' | 'sometimes' = 'always'>(
  spec: S,
  job: J = 'always' as J,
): S & { job: J } => ({ ...spec, job });
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- no extra fields by default
export const Lifecycle = <E extends Record<string, TSchema> = {}>(extra: E = {} as E) =>
  T.Object({ domain: DomainRef, ...extra }, { additionalProperties: false });
