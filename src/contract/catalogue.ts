// The contract's commands as the agent knows them at run time: their names
// and flags, from the catalogue generated from the contract source
// (commands.ts; `npm run gen`), so that knowing them loads no schema.
import type { CommandFlags } from './command-flags';
import type { CommandName, JobCommand } from './commands';
import { CATALOGUE as GENERATED } from './gen/catalogue.gen';

// test/contract/runtime-gen.test.ts: the same names as COMMANDS, in the same order
const CATALOGUE = GENERATED as Readonly<Record<CommandName, CommandFlags>>;

export function isCommandName(s: string): s is CommandName {
  return Object.prototype.hasOwnProperty.call(CATALOGUE, s);
}

/** Whether a command may run as a job (contract flag `job`). */
export function isJobCommand(name: string): name is JobCommand {
  return isCommandName(name) && CATALOGUE[name].job !== undefined;
}

export function commandFlags(name: CommandName): CommandFlags {
  return CATALOGUE[name];
}

/** Every command of the contract, in the contract's order. */
export const COMMAND_NAMES = Object.keys(CATALOGUE) as readonly CommandName[];
