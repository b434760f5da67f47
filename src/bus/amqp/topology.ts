// Declares the contract topology. Runs on every (re)connect: the broker may
// have lost non-durable state, or an operator may have deleted a queue, and
// declaring what already exists identically is free.
import type { Channel } from 'amqplib';
import {
  BROADCAST_EXCHANGE,
  COMMANDS_EXCHANGE,
  DEAD_LETTER_EXCHANGE,
  DEAD_LETTER_QUEUE,
  EVENTS_EXCHANGE,
  commandQueue,
} from '../../contract/addresses';

export interface TopologyOptions {
  nodeId: string;
  /** quorum-queue x-delivery-limit: a command that crashes the agent this often is dead-lettered */
  deliveryLimit: number;
}

export interface DeclaredTopology {
  /** virtbus.cmd.<node> */
  commandQueue: string;
  /** server-named, exclusive to this connection */
  broadcastQueue: string;
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

/** Declares exchanges, the dead-letter queue, the node's command queue and this connection's broadcast queue. */
export async function declareTopology(ch: Channel, o: TopologyOptions): Promise<DeclaredTopology> {
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

  // Broadcasts are only meaningful to agents that are up right now, so the
  // queue lives and dies with this connection.
  const bq = await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
  await ch.bindQueue(bq.queue, BROADCAST_EXCHANGE, '');

  return { commandQueue: cmdQueue, broadcastQueue: bq.queue };
}
