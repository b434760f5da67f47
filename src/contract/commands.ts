// The v1 command set: for each command, the schema of its `data` and of its
// reply's `result`. These TypeBox definitions are the single source: the TS
// types come from Static<>, and contracts/schemas/*.json are generated from
// them (`npm run gen`, tools/contract/).
//
// The commands are declared by family (commands-<family>.ts); this file
// puts them together in the contract's order, which is also the order of
// the generated files.
import type { Static } from '@sinclair/typebox';
import type { CommandSpec } from './command-spec';
import { DOMAIN_COMMANDS } from './commands-domain';
import { HOST_COMMANDS } from './commands-host';
import { JOB_COMMANDS } from './commands-jobs';
import { NETWORK_COMMANDS } from './commands-network';
import { STORAGE_COMMANDS } from './commands-storage';

export type { CommandSpec } from './command-spec';
export { DomainStateWord, JobInfo, JobState } from './shapes';

export const COMMANDS = {
  ...HOST_COMMANDS,
  ...DOMAIN_COMMANDS,
  ...STORAGE_COMMANDS,
  ...NETWORK_COMMANDS,
  ...JOB_COMMANDS,
} satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;
export type CommandData<C extends CommandName> = Static<(typeof COMMANDS)[C]['data']>;
export type CommandResult<C extends CommandName> = Static<(typeof COMMANDS)[C]['result']>;
/** The long-running commands (always or for some data): a job, answered once at the end. */
export type JobCommand = { [C in CommandName]: (typeof COMMANDS)[C] extends { job: string } ? C : never }[CommandName];

// The names and flags as the agent reads them, without the schemas (catalogue.ts, generated).
export { isCommandName, isJobCommand } from './catalogue';
