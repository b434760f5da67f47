// Every implemented command's handler, by name.
import { COMMAND_NAMES, commandFlags } from '../contract/catalogue';
import type { CommandName } from '../contract/commands';
import { agentHandlers } from './agent';
import type { Handler, HandlerTable } from './context';
import { domainHandlers } from './domain';
import { networkHandlers } from './network';
import { nodeHandlers } from './node';
import { storageHandlers } from './storage';
import { jobHandlers } from './jobs';
import { isJobOnlyCommand } from '../jobs/kinds';
import { snapshotHandlers } from './snapshots';

export const HANDLERS: HandlerTable = {
  ...agentHandlers,
  ...nodeHandlers,
  ...domainHandlers,
  ...storageHandlers,
  ...networkHandlers,
  ...jobHandlers,
  ...snapshotHandlers,
};

export function handlerFor(name: CommandName): Handler<CommandName> | undefined {
  return HANDLERS[name] as Handler<CommandName> | undefined;
}

/** Commands the contract lists that are neither implemented nor marked planned (must be empty). */
export function missingHandlers(): string[] {
  return COMMAND_NAMES.filter((n) => !commandFlags(n).planned && !HANDLERS[n] && !isJobOnlyCommand(n));
}
