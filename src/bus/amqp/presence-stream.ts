// The fleet's presence log on AMQP (contract/addresses.ts PRESENCE_STREAM):
// one stream for the whole fleet, fed by the events exchange's binding, so an
// agent publishes nothing more for it. Declared by every agent in declare
// mode (identical declarations are free) and by deploy/rabbitmq/definitions.mjs.
import type { Channel, ChannelModel } from 'amqplib';
import { readUntilIdle } from '../../timeout';
import { EVENTS_EXCHANGE, PRESENCE_EVENTS, PRESENCE_STREAM, presenceBindingKey } from '../../contract/addresses';

/**
 * A stream, not a queue: many readers, each from a point in time, none
 * consuming what the next one needs. Retention: an hour, and small segments
 * so that retention can drop old ones (it deletes whole segments).
 */
export const PRESENCE_STREAM_OPTIONS = {
  durable: true,
  arguments: {
    'x-queue-type': 'stream',
    'x-max-age': '1h',
    'x-max-length-bytes': 64 * 1024 * 1024,
    'x-stream-max-segment-size-bytes': 4 * 1024 * 1024,
  },
};

export async function declarePresenceStream(ch: Channel): Promise<void> {
  await ch.assertQueue(PRESENCE_STREAM, PRESENCE_STREAM_OPTIONS);
  for (const ev of PRESENCE_EVENTS) await ch.bindQueue(PRESENCE_STREAM, EVENTS_EXCHANGE, presenceBindingKey(ev));
}

/**
 * Declares the presence log on a channel of its own. It serves readers of
 * the fleet's list, not this agent: a log that cannot be declared (its
 * replicas' majority down, or declared by an operator with other settings)
 * leaves the agent running, and says so (the returned text).
 */
export async function declarePresenceLog(model: ChannelModel): Promise<string | undefined> {
  const ch = await model.createChannel();
  ch.on('error', () => undefined); // a refusal arrives as this channel's close
  try {
    await declarePresenceStream(ch);
    return undefined;
  } catch (err) {
    return `presence log ${PRESENCE_STREAM} not declared (${String((err as Error).message)}); fleet listings may miss this node until it is`;
  } finally {
    await ch.close().catch(() => undefined);
  }
}

/**
 * Passive mode (an operator declared the topology): the log is checked, not
 * declared. Missing, the agent runs all the same and says what is lost.
 */
export async function checkPresenceLog(model: ChannelModel): Promise<string | undefined> {
  const ch = await model.createChannel();
  ch.on('error', () => undefined); // a 404 arrives as this channel's close
  try {
    await ch.checkQueue(PRESENCE_STREAM);
    return undefined;
  } catch (err) {
    return `presence log ${PRESENCE_STREAM} missing (${String((err as Error).message)}); declare it (deploy/rabbitmq/definitions.mjs): without it migrate {to} and fleet listings do not find this node`;
  } finally {
    await ch.close().catch(() => undefined);
  }
}

/**
 * Earlier versions kept each node's latest presence in a queue of its own,
 * virtbus.presence.<node> (a quorum queue: three file handles and a Raft
 * group per node on the broker); the log replaces it. Deleting one that is
 * not there is a no-op; one that cannot be deleted is left to the operator.
 */
export async function dropOldPresenceQueue(model: ChannelModel, nodeId: string): Promise<void> {
  const ch = await model.createChannel();
  ch.on('error', () => undefined);
  try {
    await ch.deleteQueue(`virtbus.presence.${nodeId}`);
  } catch {
    /* not allowed, or its node is down: harmless */
  } finally {
    await ch.close().catch(() => undefined);
  }
}

/** One record of the presence log: the presence event as published, and the node it is about. */
export interface PresenceLogRecord {
  /** from the routing key, v1.<node>.agent.<node>.<event> */
  node: string;
  event: string;
  body: Buffer;
  contentType?: string;
}

const PRESENCE_KEY = /^v1\.([^.]+)\.agent\.[^.]+\.(online|heartbeat|offline)$/;

/**
 * Reads the presence log from `from` (ms since the epoch; 'first': all it
 * keeps) on a channel of its own, oldest first, and resolves once nothing
 * more came for idleMs (or at timeoutMs): the log has no end marker, and a
 * reader catching up gets what is kept in one burst. A stream consumer
 * must ack (its credit) and have a prefetch. Resolves false when there is
 * no log (no agent in declare mode ever ran, nor definitions.mjs).
 */
export async function readPresenceLog(
  model: ChannelModel,
  from: number | 'first',
  onRecord: (r: PresenceLogRecord) => void,
  o: { idleMs?: number; firstIdleMs?: number; timeoutMs?: number } = {},
): Promise<boolean> {
  const ch = await model.createChannel();
  ch.on('error', () => undefined); // a missing log closes this channel only
  try {
    await ch.prefetch(500);
    const offset = from === 'first' ? 'first' : { '!': 'timestamp', value: Math.floor(from / 1000) };
    await readUntilIdle(o, async (seen) => {
      await ch.consume(
        PRESENCE_STREAM,
        (m) => {
          if (!m) return;
          ch.ack(m);
          seen();
          const k = PRESENCE_KEY.exec(m.fields.routingKey);
          if (k)
            onRecord({ node: k[1], event: k[2], body: m.content, contentType: m.properties.contentType as string });
        },
        { noAck: false, arguments: { 'x-stream-offset': offset } },
      );
    });
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return false;
    throw err;
  } finally {
    await ch.close().catch(() => undefined);
  }
}
