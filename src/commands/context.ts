import type { CommandData, CommandName, CommandResult } from '../contract/commands';
import type { Connection } from '../libvirt';
import type { JobBackend } from '../jobs';

export interface AgentFacts {
  node: string;
  bootId: string;
  version: string;
  /** how peers reach this node's libvirt (agent.ping) */
  libvirtUri?: string;
  migrateUri?: string;
  /** live counters for agent.status */
  status(): Record<string, unknown>;
}

export interface CommandContext {
  /** the current libvirt connection; throws NotConnectedError (UNAVAILABLE) while reconnecting */
  readonly conn: Connection;
  readonly agent: AgentFacts;
  /** aborted when the command timed out or the agent is stopping */
  readonly signal: AbortSignal;
  /** the job system (job.get/list/cancel), when the agent has one */
  readonly jobs?: JobBackend;
}

export type Handler<C extends CommandName> = (data: CommandData<C>, ctx: CommandContext) => Promise<CommandResult<C>>;
export type HandlerTable = { [C in CommandName]?: Handler<C> };
