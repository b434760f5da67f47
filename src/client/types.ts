// The client SDK's types and its command envelope, shared by the AMQP and MQTT clients.
import { randomUUID } from 'node:crypto';
import { COMMAND_TYPE_PREFIX } from '../contract/addresses';
import type { CloudEvent } from '../contract/envelope';
import type { CommandName } from '../contract/commands';
import type { ReplyData } from '../contract/events';
import type { Endpoint, EndpointInput } from '../endpoint';

export interface CallOptions {
  id?: string;
  deadline?: string;
  timeoutMs?: number;
}

export interface VirtbusClient {
  /** Sends a command and resolves with the reply's data ({ok, result} or {ok:false, error}). */
  call(command: CommandName | string, data?: unknown, o?: CallOptions): Promise<ReplyData>;
  /** Calls onEvent for every event of the node (or of all nodes with '*'); resolves once subscribed. */
  watch(onEvent: (e: CloudEvent) => void, node?: string): Promise<void>;
  /** Sends a command to every agent (broadcast); onReply sees each agent's reply as it comes. */
  broadcast(command: CommandName | string, data: unknown, onReply: (reply: CloudEvent) => void): Promise<void>;
  /** Calls onPresence for every agent's online/heartbeat/offline event; resolves once subscribed. */
  watchPresence(onPresence: (e: CloudEvent) => void): Promise<void>;
  /** resolves when the connection to the broker is lost */
  readonly lost: Promise<void>;
  close(): Promise<void>;
}

export interface ClientOptions {
  /** the broker: amqp(s):// or mqtt(s)://, a list (tried in order until one answers), or an Endpoint with credentials and TLS */
  endpoint: EndpointInput;
  node: string;
  source?: string;
  protocolVersion?: 4 | 5;
}

/** Tries each URL of the endpoint in turn; the first that connects wins, else the last error is thrown. */
export async function firstReachable<T>(e: Endpoint, connect: (url: string) => Promise<T>): Promise<T> {
  let last: unknown;
  for (const url of e.urls) {
    try {
      return await connect(url);
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

export function commandEnvelope(
  command: string,
  data: unknown,
  source: string,
  o: CallOptions & { extra?: Record<string, unknown> } = {},
): CloudEvent {
  return {
    specversion: '1.0',
    id: o.id ?? randomUUID(),
    source,
    type: `${COMMAND_TYPE_PREFIX}${command}`,
    time: new Date().toISOString(),
    data: data ?? {},
    ...(o.deadline && { deadline: o.deadline }),
    ...o.extra,
  };
}
