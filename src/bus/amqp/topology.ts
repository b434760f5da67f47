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
} from '../../contract/addresses';
import { checkPresenceLog, declarePresenceLog, dropOldPresenceQueue } from './presence-stream';

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
  /** what the agent runs without this session (e.g. the presence log cannot be declared), for a warning */
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
      missing.push(what);
    }
  }
  if (missing.length) throw new TopologyMissingError(missing);
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
    const degraded = await checkPresenceLog(model);
    return {
      commandQueue: commandQueue(o.nodeId),
      broadcastQueue: await broadcastQueue(ch),
      ...(degraded && { degraded }),
    };
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

  // The fleet's presence log (migrate {to}, fleet calls, `virtbus nodes`): one stream for all agents, fed by virtbus.events.
  const degraded = await declarePresenceLog(model);
  await dropOldPresenceQueue(model, o.nodeId);

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
