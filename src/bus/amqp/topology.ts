// Declares the contract topology. Runs on every (re)connect: the broker may
// have lost non-durable state, or an operator may have deleted a queue, and
// declaring what already exists identically is free.
import type { Channel, ChannelModel } from 'amqplib';
import {
  BROADCAST_EXCHANGE,
  COMMANDS_EXCHANGE,
  DEAD_LETTER_EXCHANGE,
  DEAD_LETTER_QUEUE,
  EVENTS_EXCHANGE,
  commandQueue,
  presenceQueue,
} from '../../contract/addresses';
import { declarePresenceLog } from './presence-stream';

/**
 * The presence queue keeps the latest presence event only (x-max-length 1,
 * drop-head): a last-value store for peers' lookups. Quorum, like the
 * command queue: a classic queue lives on one broker node, and while that
 * node is down it can be neither read nor declared again (404 "home node …
 * is down or inaccessible"), so on a cluster the agent could not reconnect
 * to the other nodes. (A quorum queue counts a message a lookup holds
 * against x-max-length: a presence published in that moment — a lookup's
 * round trip — is dropped when the lookup puts the old one back, and the
 * previous presence stays until the node's next heartbeat or reconnect.)
 */
export const PRESENCE_QUEUE_OPTIONS = {
  durable: true,
  arguments: { 'x-queue-type': 'quorum', 'x-max-length': 1, 'x-overflow': 'drop-head' },
};

export interface TopologyOptions {
  nodeId: string;
  /**
   * declare: the agent declares the contract topology (needs configure rights).
   * passive: an operator declared it (deploy/rabbitmq); the agent only checks
   * that its exchanges and command queue exist, and declares nothing but its
   * own server-named broadcast queue.
   */
  mode?: 'declare' | 'passive';
  /** quorum-queue x-delivery-limit: a command that crashes the agent this often is dead-lettered */
  deliveryLimit: number;
}

export interface DeclaredTopology {
  /** virtbus.cmd.<node> */
  commandQueue: string;
  /** server-named, exclusive to this connection */
  broadcastQueue: string;
  /** what the agent runs without this session (e.g. its presence queue is unreachable), for a warning */
  degraded?: string;
}

/** AMQP reply code for PRECONDITION_FAILED. */
const PRECONDITION_FAILED = 406;

/**
 * An existing queue or exchange differs from what the agent declares (e.g.
 * a classic queue where the contract wants a quorum queue). Retrying cannot
 * fix it — RabbitMQ never changes arguments of an existing queue — so the
 * transport gives up instead of reconnecting forever.
 */
export class TopologyMismatchError extends Error {
  constructor(
    readonly kind: 'queue' | 'exchange',
    readonly entity: string,
    /** the differing argument, e.g. 'x-queue-type', 'durable', 'type' (undefined when the broker did not say) */
    readonly argument: string | undefined,
    readonly brokerMessage: string,
  ) {
    const what = argument ? `a different '${argument}'` : 'different settings';
    const fix = kind === 'queue' ? `delete it (rabbitmqctl delete_queue ${entity}) or` : `delete it or`;
    super(
      `${kind} '${entity}' already exists with ${what} than virtbus declares; ${fix} align the agent's settings. ` +
        `Broker said: ${brokerMessage}`,
    );
    this.name = 'TopologyMismatchError';
  }
}

/** Passive topology: what the operator has not declared. Retrying cannot create it. */
export class TopologyMissingError extends Error {
  constructor(readonly missing: string[]) {
    super(
      `--topology passive: ${missing.join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist on the broker; ` +
        'the agent only checks them in this mode: declare them (deploy/rabbitmq) or run with --topology declare',
    );
    this.name = 'TopologyMissingError';
  }
}

const NOT_FOUND = 404;
const ACCESS_REFUSED = 403;

/** The broker refused to let this user declare the topology: retrying cannot grant the rights. */
export class TopologyAccessError extends Error {
  constructor(readonly brokerMessage: string) {
    super(
      `the broker refused to declare the virtbus topology for this user (${brokerMessage}); ` +
        'with least-privilege permissions an operator declares it (deploy/rabbitmq) and the agent runs with --topology passive',
    );
    this.name = 'TopologyAccessError';
  }
}

/**
 * Checks that each exchange and queue exists, each on a channel of its own
 * (a missing one closes the channel it was checked on), and names every one
 * that is missing.
 */
async function checkExisting(model: ChannelModel, nodeId: string): Promise<void> {
  const checks: Array<[string, (ch: Channel) => Promise<unknown>]> = [
    ...[EVENTS_EXCHANGE, COMMANDS_EXCHANGE, BROADCAST_EXCHANGE].map(
      (x): [string, (ch: Channel) => Promise<unknown>] => [`exchange '${x}'`, (ch) => ch.checkExchange(x)],
    ),
    [`queue '${commandQueue(nodeId)}'`, (ch) => ch.checkQueue(commandQueue(nodeId))],
    [`queue '${presenceQueue(nodeId)}'`, (ch) => ch.checkQueue(presenceQueue(nodeId))],
  ];
  const missing: string[] = [];
  for (const [what, check] of checks) {
    const ch = await model.createChannel();
    ch.on('error', () => undefined); // the 404 arrives as the channel's close; reported below
    try {
      await check(ch);
      await ch.close();
    } catch (err) {
      if ((err as { code?: unknown }).code !== NOT_FOUND) throw err;
      // it exists, on a cluster node that is down (a classic queue of an earlier version)
      if (HOME_NODE_DOWN.test(String((err as { message?: unknown }).message))) continue;
      missing.push(what);
    }
  }
  if (missing.length) throw new TopologyMissingError(missing);
}

// e.g. "NOT_FOUND - home node 'rabbit@b' of durable queue 'virtbus.presence.n1' in vhost '/' is down or inaccessible"
const HOME_NODE_DOWN = /home node .* is down or inaccessible/;

/** step on a channel of its own: a refusal closes the channel it was asked on, not the session's. */
async function onOwnChannel<T>(model: ChannelModel, step: (ch: Channel) => Promise<T>): Promise<T> {
  const ch = await model.createChannel();
  ch.on('error', () => undefined); // the refusal arrives as the channel's close; step rejects with it
  const r = await step(ch);
  await ch.close().catch(() => undefined);
  return r;
}

/**
 * Declares the presence queue on channels of its own. A classic presence
 * queue of an earlier version is replaced: it holds only the latest presence,
 * which the agent publishes again right after connecting (online). One that
 * cannot be reached because its broker node is down does not keep the agent
 * from its commands: it runs without (peers' lookups of this node find
 * nothing meanwhile) and the next connect declares it again.
 */
async function declarePresenceQueue(model: ChannelModel, nodeId: string): Promise<string | undefined> {
  const q = presenceQueue(nodeId);
  const declare = () => onOwnChannel(model, (ch) => ch.assertQueue(q, PRESENCE_QUEUE_OPTIONS));
  try {
    await declaring('queue', q, declare);
    return undefined;
  } catch (err) {
    if (
      err instanceof TopologyMismatchError &&
      err.argument === 'x-queue-type' &&
      /current is 'classic'/.test(err.brokerMessage)
    ) {
      await onOwnChannel(model, (ch) => ch.deleteQueue(q));
      await declaring('queue', q, declare);
      return undefined;
    }
    const e = err as { code?: unknown; message?: unknown };
    if (e.code === NOT_FOUND && HOME_NODE_DOWN.test(String(e.message)))
      return `presence queue ${q} unreachable (${String(e.message)}); peers' lookups of this node find nothing until it is declared again at the next connect`;
    throw err;
  }
}

// e.g. "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'virtbus.cmd.n1' in vhost '/': received ..."
const INEQUIVALENT = /inequivalent arg '([^']+)' for (queue|exchange) '([^']+)'/;

async function declaring<T>(kind: 'queue' | 'exchange', entity: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    if (e.code !== PRECONDITION_FAILED) throw err;
    const msg = String(e.message);
    const m = INEQUIVALENT.exec(msg);
    if (m) throw new TopologyMismatchError(m[2] as 'queue' | 'exchange', m[3], m[1], msg);
    throw new TopologyMismatchError(kind, entity, undefined, msg);
  }
}

/**
 * Declares exchanges, the dead-letter queue, the node's command queue and
 * this connection's broadcast queue; in passive mode only checks the first
 * three and declares the broadcast queue.
 */
export async function declareTopology(model: ChannelModel, ch: Channel, o: TopologyOptions): Promise<DeclaredTopology> {
  if (o.mode === 'passive') {
    await checkExisting(model, o.nodeId);
    return { commandQueue: commandQueue(o.nodeId), broadcastQueue: await broadcastQueue(ch) };
  }
  try {
    return await declareAll(model, ch, o);
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    if (e.code === ACCESS_REFUSED) throw new TopologyAccessError(String(e.message));
    throw err;
  }
}

async function declareAll(model: ChannelModel, ch: Channel, o: TopologyOptions): Promise<DeclaredTopology> {
  for (const [name, type] of [
    [EVENTS_EXCHANGE, 'topic'],
    [COMMANDS_EXCHANGE, 'direct'],
    [BROADCAST_EXCHANGE, 'fanout'],
    [DEAD_LETTER_EXCHANGE, 'fanout'],
  ] as const) {
    await declaring('exchange', name, () => ch.assertExchange(name, type, { durable: true }));
  }

  // Without a queue bound to the DLX, RabbitMQ would silently drop dead
  // letters; this keeps them for an operator to inspect. Quorum so the
  // evidence survives a broker node loss like the command queues do.
  await declaring('queue', DEAD_LETTER_QUEUE, () =>
    ch.assertQueue(DEAD_LETTER_QUEUE, { durable: true, arguments: { 'x-queue-type': 'quorum' } }),
  );
  await ch.bindQueue(DEAD_LETTER_QUEUE, DEAD_LETTER_EXCHANGE, '');

  // Quorum: commands survive a broker node loss. Single active consumer: a
  // second agent started with the same node id waits as a hot standby
  // instead of splitting the node's commands. x-delivery-limit: a command
  // that keeps killing the agent before it is acked ends in the DLQ rather
  // than in a crash loop.
  const cmdQueue = commandQueue(o.nodeId);
  await declaring('queue', cmdQueue, () =>
    ch.assertQueue(cmdQueue, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-single-active-consumer': true,
        'x-dead-letter-exchange': DEAD_LETTER_EXCHANGE,
        'x-delivery-limit': o.deliveryLimit,
      },
    }),
  );
  await ch.bindQueue(cmdQueue, COMMANDS_EXCHANGE, o.nodeId);

  // Where peers read this node's latest presence (migrate {to}); published to through the default exchange.
  const noPresenceQueue = await declarePresenceQueue(model, o.nodeId);
  // The fleet's presence log (fleet calls, `virtbus nodes`): one stream for all agents, fed by virtbus.events.
  const noPresenceLog = await declarePresenceLog(model);
  const degraded = [noPresenceQueue, noPresenceLog].filter((d) => d).join('; ');

  return { commandQueue: cmdQueue, broadcastQueue: await broadcastQueue(ch), ...(degraded && { degraded }) };
}

/**
 * Broadcasts are only meaningful to agents that are up right now, so the
 * queue lives and dies with this connection (server-named: amq.gen-…, which
 * the least-privilege permissions let a node configure).
 */
async function broadcastQueue(ch: Channel): Promise<string> {
  const bq = await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
  await ch.bindQueue(bq.queue, BROADCAST_EXCHANGE, '');
  return bq.queue;
}
