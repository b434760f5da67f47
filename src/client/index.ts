// The client package's entry (@virtbus/client): the typed SDK, its error
// class and types, the untyped client, fleet calls and the contract's
// command types. Nothing reachable from here loads the agent's native addon.
export { connect } from './sdk';
export type { ConnectOptions, CallOptions, Called, DataOf, FleetOutcome, Virtbus } from './sdk';
export { VirtbusError, isVirtbusError } from './errors';
export type { Job, JobProgress } from './job';
export type { EventFilter, EventObject, EventStream, VirtbusEvent } from './events';
export type { FleetCallOptions, FleetNode, NodeOutcome, NodeStatus } from './fleet';
export { connectClient } from './client';
export type { ClientOptions, VirtbusClient, PresenceOptions, PresenceSeen } from './types';
export type { Signer } from '../auth/signing';
export type { ReplyData } from '../contract/events';
export type { CloudEvent } from '../contract/envelope';
export type { ErrorCode } from '../contract/errors';
export { COMMANDS, isCommandName, isJobCommand } from '../contract/commands';
export type { CommandData, CommandName, CommandResult, JobCommand } from '../contract/commands';
export type { TlsSettings, Endpoint } from '../endpoint';
