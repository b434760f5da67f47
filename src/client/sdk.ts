// The typed SDK: connect() once, then call commands by name with their data
// and result types from the contract (a wrong argument does not compile),
// follow long-running commands through a Job handle, read events as an
// async iterator and make fleet calls. Errors are VirtbusError. Built on the
// untyped client (connectClient) that the CLI also uses; nothing here loads
// the agent's native addon.
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import {
  isJobCommand,
  type CommandData,
  type CommandName,
  type CommandResult,
  type JobCommand,
} from '../contract/commands';
import type { ReplyData } from '../contract/events';
import { signerFrom, type Signer } from '../auth/signing';
import { toEndpoint, type Endpoint, type TlsSettings } from '../endpoint';
import { TimeoutError } from '../timeout';
import { connectClient } from './client';
import { VirtbusError } from './errors';
import { EventHub } from './event-hub';
import { eventStream, type EventFilter, type EventStream } from './events';
import { fleet, type FleetCallOptions, type FleetNode, type NodeOutcome } from './fleet';
import { attachJob, startJob, type Job } from './job';
import type { PresenceOptions, VirtbusClient } from './types';

/** setTimeout's largest delay: "no time limit" for a job's reply, which comes when the job ends. */
export const NO_LIMIT_MS = 2 ** 31 - 1;

export interface ConnectOptions {
  /** amqp(s)://… or mqtt(s)://…, a list of one kind (tried in turn), or an Endpoint */
  bus: string | string[] | Endpoint;
  /** TLS for amqps:// and mqtts:// (CA, client certificate and key, server name) */
  tls?: TlsSettings;
  /** sign every command: a PEM Ed25519 key (or a file holding one) and the id the agents know it by */
  signingKey?: { keyId: string; pem?: string | Buffer; file?: string } | Signer;
  /** the node commands go to unless a call names another */
  node?: string;
  /** MQTT protocol (default 5) */
  mqttVersion?: 4 | 5;
  /** CloudEvents source of the commands (default virtbus-sdk) */
  source?: string;
  /** AMQP: login with the client certificate (SASL EXTERNAL) */
  auth?: 'plain' | 'external';
  /** AMQP user_id for agents with trusted senders (default: the URL's user) */
  userId?: string;
  /** MQTT: replies under virtbus/reply/<caller>/ */
  caller?: string;
  /** how long a call waits for its reply (ms, default 30000; long-running commands: no limit) */
  timeoutMs?: number;
}

export interface CallOptions {
  /** the target node (default: the connection's node) */
  node?: string;
  /** the command id: a retry with the same id is answered from the agent's record, never run twice */
  id?: string;
  /** RFC 3339: the agent refuses to start it later (EXPIRED) */
  deadline?: string;
  /** how long to wait for the reply (ms) */
  timeoutMs?: number;
}

/** call()'s answer: the result, or for a long-running command its Job handle. */
export type Called<C extends CommandName> = C extends JobCommand
  ? Promise<Job<CommandResult<C>, C>>
  : Promise<CommandResult<C>>;

/** A command's data: none at all for a command that takes none (its schema is an empty object). */
export type DataOf<C extends CommandName> = keyof CommandData<C> extends never ? Record<string, never> : CommandData<C>;

/** Data may be left out when the command needs none. */
type CallArgs<C extends CommandName, O> =
  Record<string, never> extends DataOf<C> ? [data?: DataOf<C>, o?: O] : [data: DataOf<C>, o?: O];

/** One node's outcome of a fleet call, its result typed as the command's. */
export type FleetOutcome<C extends CommandName> =
  (Extract<NodeOutcome, { outcome: 'ok' }> & { result: CommandResult<C> }) | Exclude<NodeOutcome, { outcome: 'ok' }>;

export interface Virtbus {
  /** Runs a command on a node: its result (or, long-running, a Job); an error reply rejects with VirtbusError. */
  call<C extends CommandName>(command: C, ...args: CallArgs<C, CallOptions>): Called<C>;
  /** Follows a job by its command id (started by anyone). */
  job(id: string, o?: { node?: string }): Promise<Job<unknown>>;
  /** Events as an async iterator: de-duplicated, with seq gaps and agent restarts reported on the events. */
  events(filter?: EventFilter): EventStream;
  /** One command to many nodes: one outcome per node (reply, error or no reply in time). */
  fleetCall<C extends CommandName>(command: C, ...args: CallArgs<C, FleetCallOptions>): Promise<FleetOutcome<C>[]>;
  /** The fleet from the presence the broker keeps. */
  nodes(o?: PresenceOptions): Promise<FleetNode[]>;
  /** the untyped client underneath (raw replies, presence, broadcast) */
  readonly client: VirtbusClient;
  readonly node: string;
  close(): Promise<void>;
}

function signerOf(k: ConnectOptions['signingKey']): Signer | undefined {
  if (!k) return undefined;
  if ('privateKey' in k) return k;
  const pem = k.pem ?? (k.file !== undefined ? readFileSync(k.file) : undefined);
  if (pem === undefined) throw new Error('signingKey needs pem or file');
  return signerFrom(pem, k.keyId);
}

export async function connect(o: ConnectOptions): Promise<Virtbus> {
  const endpoint = toEndpoint(o.bus);
  const signer = signerOf(o.signingKey);
  const node = o.node ?? '';
  const client = await connectClient({
    endpoint: o.tls ? { ...endpoint, tls: o.tls } : endpoint,
    node,
    source: o.source ?? 'virtbus-sdk',
    ...(o.mqttVersion && { protocolVersion: o.mqttVersion }),
    ...(signer && { signer }),
    ...(o.auth && { auth: o.auth }),
    ...(o.userId && { userId: o.userId }),
    ...(o.caller && { caller: o.caller }),
  });
  return new Sdk(client, node, o.timeoutMs ?? 30_000);
}

class Sdk implements Virtbus {
  private readonly hub: EventHub;

  constructor(
    readonly client: VirtbusClient,
    readonly node: string,
    private readonly timeoutMs: number,
  ) {
    this.hub = new EventHub(client);
  }

  private target(o?: { node?: string }): string {
    const node = o?.node ?? this.node;
    if (!node) throw new Error('no node: give connect({ node }) or the call a node');
    return node;
  }

  /** The raw reply; a reply that does not come in time is a local TIMEOUT. */
  private send = async (command: string, data: unknown, o: CallOptions & { node: string }): Promise<ReplyData> => {
    const id = o.id ?? randomUUID();
    try {
      return await this.client.call(command, data, { ...o, id, timeoutMs: o.timeoutMs ?? this.timeoutMs });
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
      throw new VirtbusError(
        { code: 'TIMEOUT', message: `no reply from node ${o.node} within ${o.timeoutMs ?? this.timeoutMs} ms` },
        { command, id, local: true },
      );
    }
  };

  call<C extends CommandName>(command: C, ...args: CallArgs<C, CallOptions>): Called<C> {
    const [data, o] = args;
    let node: string;
    try {
      node = this.target(o);
    } catch (e) {
      return Promise.reject(e) as Called<C>;
    }
    if (isJobCommand(command)) {
      // a job replies once, at its end: no time limit unless the caller sets one
      const send = (c: string, d: unknown, so: CallOptions & { node: string }) => this.send(c, d, so);
      return startJob({ hub: this.hub, send, node, command, id: o?.id ?? randomUUID() }, data ?? {}, {
        timeoutMs: o?.timeoutMs ?? NO_LIMIT_MS,
        ...(o?.deadline && { deadline: o.deadline }),
      }) as unknown as Called<C>;
    }
    const id = o?.id ?? randomUUID();
    return this.send(command, data ?? {}, { ...o, id, node }).then((r) => {
      if (r.ok) return r.result;
      throw new VirtbusError(r.error, { command, id });
    }) as Called<C>;
  }

  async job(id: string, o?: { node?: string }): Promise<Job<unknown>> {
    return attachJob({ hub: this.hub, send: this.send, node: this.target(o), id });
  }

  events(filter: EventFilter = {}): EventStream {
    return eventStream(this.hub, filter.node ?? this.target(), filter);
  }

  fleetCall<C extends CommandName>(command: C, ...args: CallArgs<C, FleetCallOptions>): Promise<FleetOutcome<C>[]> {
    const [data, o] = args;
    return fleet(this.client).call(command, data ?? {}, o ?? {}) as Promise<FleetOutcome<C>[]>;
  }

  nodes(o?: PresenceOptions): Promise<FleetNode[]> {
    return fleet(this.client).nodes(o);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
