// The client SDK's types and its command envelope, shared by the AMQP and MQTT clients.
import { randomUUID } from 'node:crypto';
import { COMMAND_TYPE_PREFIX } from '../contract/addresses';
import type { CloudEvent } from '../contract/envelope';
import type { CommandName } from '../contract/commands';
import type { ReplyData } from '../contract/events';
import type { Endpoint, EndpointInput } from '../endpoint';
import { BROADCAST_TARGET, signFields, signedTime, type Signer } from '../auth/signing';

export interface CallOptions {
  id?: string;
  deadline?: string;
  timeoutMs?: number;
  /** send to this node instead of the client's (fleet calls) */
  node?: string;
}

/** One agent's latest presence, as the broker keeps it. */
export interface PresenceSeen {
  node: string;
  /** the presence data: status, bootId, version, libvirtUri, transport, at, heartbeatS, … */
  data: Record<string, unknown>;
  /** when it was published (ms since the epoch) */
  at: number;
  /**
   * How the record stays true. 'heartbeats': refreshed by every heartbeat
   * (AMQP presence log), so a record older than a few heartbeats means a
   * lost agent. 'will': the broker itself marks it offline when the agent's
   * connection dies (MQTT retained status with a Last Will); its age says nothing.
   */
  liveness: 'heartbeats' | 'will';
}

export interface PresenceOptions {
  /** AMQP: how far back the presence log is read (ms, default 300000: ten default heartbeats) */
  windowMs?: number;
  /** the read ends once nothing more came for this long (ms, default 250) */
  idleMs?: number;
  /** and at the latest after this long (ms, default 10000) */
  timeoutMs?: number;
}

export interface VirtbusClient {
  /** Sends a command and resolves with the reply's data ({ok, result} or {ok:false, error}). */
  call(command: CommandName | string, data?: unknown, o?: CallOptions): Promise<ReplyData>;
  /** Calls onEvent for every event of the node (or of all nodes with '*'); resolves once subscribed. */
  watch(onEvent: (e: CloudEvent) => void, node?: string): Promise<void>;
  /**
   * Sends a command to every agent (broadcast); onReply sees each agent's
   * reply as it comes, until the returned function is called (replies after
   * that are dropped).
   */
  broadcast(command: CommandName | string, data: unknown, onReply: (reply: CloudEvent) => void): Promise<() => void>;
  /** The fleet as the broker knows it: each agent's latest presence (no broadcast, nothing asked of the agents). */
  presence(o?: PresenceOptions): Promise<PresenceSeen[]>;
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
  /** signs every command (contract: Command authenticity) for agents that require signatures */
  signer?: Signer;
  /**
   * AMQP: the user_id put on every command, for agents with trusted senders
   * (RabbitMQ refuses one that is not the connection's user). Default: the
   * user name the connection logs in with, when the URL or endpoint has one.
   */
  userId?: string;
  /** MQTT: replies come to virtbus/reply/<caller>/… (default: the MQTT user name, else 'anonymous') */
  caller?: string;
  /** AMQP login: plain (user and password, default) or external (the TLS client certificate) */
  auth?: 'plain' | 'external';
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
  o: CallOptions & {
    extra?: Record<string, unknown>;
    /** sign for this target: the node id, or 'all' for a broadcast */
    sign?: { signer: Signer; target: string };
  } = {},
): CloudEvent {
  const env: CloudEvent = {
    specversion: '1.0',
    id: o.id ?? randomUUID(),
    source,
    type: `${COMMAND_TYPE_PREFIX}${command}`,
    time: signedTime(),
    data: data ?? {},
    ...(o.deadline && { deadline: o.deadline }),
    ...o.extra,
  };
  if (!o.sign) return env;
  const { signer, target } = o.sign;
  const signature = signFields(signer.privateKey, {
    id: env.id,
    type: env.type,
    source: env.source,
    time: env.time!,
    target,
    sigkeyid: signer.keyId,
    datacontenttype: env.datacontenttype,
    data: env.data,
  });
  return { ...env, sigkeyid: signer.keyId, signature } as CloudEvent;
}

/** The signing part of commandEnvelope's options for a client's command to target. */
export const signingFor = (o: ClientOptions, target: string) =>
  o.signer ? { sign: { signer: o.signer, target } } : {};

export { BROADCAST_TARGET };
