// The MQTT topic names of wire contract v1 (shared/design/contract-v1.md).
// Orchestrators and event consumers subscribe by these spellings, so they
// are built here and nowhere else.
import { createHash } from 'node:crypto';
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
 * connection); U+0000 is forbidden in any MQTT string and Mosquitto refuses
 * the other control characters as malformed UTF-8. They are percent-encoded,
 * '%' too, so the mapping is reversible and two ids never share a topic.
 */
export function topicLevel(part: string): string {
  return part.replace(/[%/+#\u0000-\u001f\u007f-\u009f]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** Longest id level (bytes, encoded) written as it is; as in AMQP routing keys, a longer one is `~` + base64url(SHA-256(id)). */
export const MAX_ID_LEVEL_BYTES = 512;

function idLevel(id: string): string {
  const level = topicLevel(id);
  if (Buffer.byteLength(level) <= MAX_ID_LEVEL_BYTES) return level;
  return `~${createHash('sha256').update(id, 'utf8').digest('base64url')}`;
}

/** virtbus/v1/<node>/<object>/<id>/<event> */
export function eventTopic(nodeId: string, object: string, id: string, event: string): string {
  for (const [name, part] of [['object', object], ['id', id], ['event', event]] as const) {
    // An empty level is legal MQTT but would match no consumer's `+` as intended.
    if (part.length === 0) throw new RangeError(`event ${name} must be non-empty`);
  }
  return `${TOPIC_ROOT}/${nodeId}/${topicLevel(object)}/${idLevel(id)}/${topicLevel(event)}`;
}

/**
 * Why a topic we are asked to publish to (a command's Response Topic or
 * replyto) cannot be used, or undefined when it can. The caller chose it: a
 * wildcard, NUL or control character in it is a protocol error that costs us
 * the connection, and `$` topics belong to the broker ($SYS): both are
 * refused here instead.
 */
export function replyTopicProblem(topic: string): string | undefined {
  if (topic.length === 0) return 'reply topic is empty';
  if (/[+#]/.test(topic)) return 'reply topic contains a wildcard (+ or #)';
  if (/[\u0000-\u001f\u007f-\u009f]/.test(topic)) return 'reply topic contains a control character';
  if (/[\ud800-\udfff]/.test(topic.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))) return 'reply topic is not valid Unicode';
  if (topic.startsWith('$')) return 'reply topic starts with $ (reserved for the broker)';
  if (Buffer.byteLength(topic) > 65535) return 'reply topic longer than 65535 bytes';
  return undefined;
}

export function assertPublishTopic(topic: string): void {
  const problem = replyTopicProblem(topic);
  if (problem) throw new RangeError(problem);
}

/** Fixed, so the broker finds the persistent session again after a reconnect or restart. */
export function defaultClientId(nodeId: string): string {
  return `virtbus-agent-${nodeId}`;
}
