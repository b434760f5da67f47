// The package's public entry points: the agent and its pieces for programs
// that embed it, the client SDK, and the contract (addresses, schemas, error
// codes). The `virtbus-agent` and `virtbus` commands are bin entries.
export { Agent, type AgentOptions, type AgentEvents } from './agent/agent';
export { loadConfig, type AgentConfig } from './agent/config';
export { AmqpTransport, type AmqpTransportOptions } from './bus/amqp';
export { MqttTransport, type MqttTransportOptions } from './bus/mqtt';
export { TransportClosedError, type Transport } from './bus/transport';
export {
  connectClient,
  commandEnvelope,
  type ClientOptions,
  type CallOptions,
  type VirtbusClient,
} from './client/client';
export * as addresses from './contract/addresses';
export { COMMANDS, type CommandName, type CommandData, type CommandResult } from './contract/commands';
export type { ReplyData } from './contract/events';
export { ERROR_CODES, CommandError, type ErrorCode, type WireError } from './errors';
