// The MQTT topic names of wire contract v1 (shared/design/contract-v1.md).
// Orchestrators and event consumers subscribe by these spellings, so they
// are built here and nowhere else.
import { assertNodeId as assertContractNodeId } from '../amqp/names';

export const TOPIC_ROOT = 'virtbus/v1';
/** the fleet-wide command topic's node slot; no agent may use it as its id */
export const BROADCAST_NODE = 'all';

/** Contract node ids, minus 'all': that node's command topic would be the broadcast one. */
export function assertNodeId(nodeId: string): void {
  assertContractNodeId(nodeId);
  if (nodeId === BROADCAST_NODE) throw new RangeError(`node id '${BROADCAST_NODE}' is reserved for fleet-wide commands on MQTT`);
}

export function commandTopic(nodeId: string): string {
  return `${TOPIC_ROOT}/${nodeId}/cmd`;
}

export const BROADCAST_TOPIC = `${TOPIC_ROOT}/${BROADCAST_NODE}/cmd`;

/** Retained presence; the Last Will sets it offline. */
export function statusTopic(nodeId: string): string {
  return `${TOPIC_ROOT}/${nodeId}/status`;
}

/**
 * One topic level from a free-form part (a volume path, a caller's command
 * id). '/' would add levels and shift every later one; '+' and '#' are
 * wildcards, which a PUBLISH topic must not contain (the broker drops the
 * connection); U+0000 is forbidden in any MQTT string. They are
 * percent-encoded, '%' too, so the mapping is reversible and two ids never
 * share a topic.
 */
export function topicLevel(part: string): string {
  return part.replace(/[%/+#\u0000]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** virtbus/v1/<node>/<object>/<id>/<event> */
export function eventTopic(nodeId: string, object: string, id: string, event: string): string {
  for (const [name, part] of [['object', object], ['id', id], ['event', event]] as const) {
    // An empty level is legal MQTT but would match no consumer's `+` as intended.
    if (part.length === 0) throw new RangeError(`event ${name} must be non-empty`);
  }
  return `${TOPIC_ROOT}/${nodeId}/${topicLevel(object)}/${topicLevel(id)}/${topicLevel(event)}`;
}

/**
 * A topic we are asked to publish to (a command's response topic / replyto).
 * The caller chose it: a wildcard or NUL in it would be a protocol error that
 * costs us the connection, so it is refused here instead.
 */
export function assertPublishTopic(topic: string): void {
  if (topic.length === 0) throw new RangeError('reply topic is empty');
  if (/[+#\u0000]/.test(topic)) throw new RangeError(`reply topic '${topic}' contains a wildcard or NUL`);
  if (Buffer.byteLength(topic) > 65535) throw new RangeError('reply topic longer than 65535 bytes');
}

/** Fixed, so the broker finds the persistent session again after a reconnect or restart. */
export function defaultClientId(nodeId: string): string {
  return `virtbus-agent-${nodeId}`;
}
