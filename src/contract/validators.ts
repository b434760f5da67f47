// The agent's checks of what it receives: an envelope, a command's data.
// The code is Ajv's, generated from the contract's schemas in advance
// (gen/validators.gen.ts, `npm run gen`), with the same options and the same
// error text as a run-time compile (validate.ts) — without loading TypeBox
// or Ajv's compiler into the agent.
import type { CommandName } from './commands';
import { COMMAND_DATA, envelope } from './gen/validators.gen';
import { describeErrors, type SchemaError } from './schema-errors';

interface Generated {
  (value: unknown): boolean;
  errors?: SchemaError[] | null;
}

const run = (check: Generated, value: unknown): string | undefined =>
  check(value) ? undefined : describeErrors(check.errors);

/** undefined when value is a CloudEvents 1.0 envelope of the contract, else the reason. */
export function checkEnvelope(value: unknown): string | undefined {
  return run(envelope as Generated, value);
}

/** undefined when data fits the command's data schema, else the reason. */
export function checkCommandData(name: CommandName, data: unknown): string | undefined {
  return run((COMMAND_DATA as Record<CommandName, Generated>)[name], data);
}
