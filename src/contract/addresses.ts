// Every address of wire contract v1 (shared/design/contract-v1.md): the node
// id rule, AMQP exchanges, queues and routing keys, MQTT topics, and the
// patterns clients subscribe with. Agents, the SDK, the generator and the
// configuration all take them from here; other-language clients depend on
// these spellings, so they are written nowhere else.
import { createHash } from 'node:crypto';
import { hasControlCharacter, isWellFormedUnicode } from './text';

/**
 * An id that cannot stand in an address as it is (too long once encoded, or
 * not usable at all): `~` + base64url(SHA-256(id)), unpadded. Fixed length,
 * one routing-key word or topic level, computable by anyone who knows the id.
 */
export function idDigest(id: string): string {
  return `~${createHash('sha256').update(id, 'utf8').digest('base64url')}`;
}

// ---- node ids ------------------------------------------------------------

/** Contract node ids; anything else could smuggle routing-key or topic syntax. */
export const NODE_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
const NODE_ID = new RegExp(NODE_ID_PATTERN);

export function isNodeId(nodeId: string): boolean {
  return NODE_ID.test(nodeId);
}

export function assertNodeId(nodeId: string): void {
  if (!isNodeId(nodeId)) throw new RangeError(`invalid node id '${nodeId}': must match ${NODE_ID}`);
}

/** The prefix of every command type. */
export const COMMAND_TYPE_PREFIX = 'virtbus.cmd.';

// ---- AMQP 0-9-1 ----------------------------------------------------------

export const EVENTS_EXCHANGE = 'virtbus.events';
export const COMMANDS_EXCHANGE = 'virtbus.commands';
export const BROADCAST_EXCHANGE = 'virtbus.broadcast';
export const DEAD_LETTER_EXCHANGE = 'virtbus.dlx';
export const DEAD_LETTER_QUEUE = 'virtbus.dlq';

/** The node's own command queue, bound to virtbus.commands with the node id. */
export function commandQueue(nodeId: string): string {
  return `virtbus.cmd.${nodeId}`;
}

/**
 * The fleet's presence log: a RabbitMQ stream bound to virtbus.events for
 * every agent's online, heartbeat and offline event, kept an hour. A client
 * reads the last minutes of it to know the fleet (whom a broadcast should
 * reach, `virtbus nodes`) with no broadcast and no per-node queue to list.
 */
export const PRESENCE_STREAM = 'virtbus.fleet.presence';

/** The agent events that say where an agent is: its presence. */
export const PRESENCE_EVENTS = ['online', 'heartbeat', 'offline'] as const;

/**
 * One routing-key word from a free-form part (a caller's command id). A '.'
 * would shift every later word and break consumers' topic patterns, and
 * control characters have no place in a key an operator reads, so they are
 * percent-encoded, '%' too, so the mapping is reversible and two ids never
 * share a key.
 */
export function routingKeyWord(part: string): string {
  return part.replace(
    /[.%\u0000-\u001f\u007f-\u009f]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

/** AMQP caps routing keys (shortstr) at 255 bytes. */
export const MAX_ROUTING_KEY_BYTES = 255;

/**
 * The id word of an event routing key. An id whose encoded form would make
 * the key longer than AMQP allows (a 128-character id of multi-byte
 * characters) is replaced by `~` + base64url(SHA-256(id)): fixed length,
 * still one word, and a consumer that knows the id can compute it.
 */
export function routingKeyId(prefixBytes: number, id: string): string {
  const word = routingKeyWord(id);
  if (prefixBytes + Buffer.byteLength(word) <= MAX_ROUTING_KEY_BYTES) return word;
  return idDigest(id);
}

/** v1.<node>.<object>.<id>.<event>; parts are encoded as routingKeyWord/routingKeyId say. */
export function eventRoutingKey(nodeId: string, object: string, id: string, event: string): string {
  for (const [name, part] of [
    ['object', object],
    ['id', id],
    ['event', event],
  ] as const) {
    if (part.length === 0) throw new RangeError(`event ${name} must be non-empty`);
  }
  const head = `v1.${nodeId}.${routingKeyWord(object)}.`;
  const tail = `.${routingKeyWord(event)}`;
  const key = `${head}${routingKeyId(Buffer.byteLength(head) + Buffer.byteLength(tail), id)}${tail}`;
  if (Buffer.byteLength(key) > MAX_ROUTING_KEY_BYTES)
    throw new RangeError(`event routing key longer than ${MAX_ROUTING_KEY_BYTES} bytes: ${key.slice(0, 64)}…`);
  return key;
}

/** clientProperties.connection_name: lets operators (rabbitmqctl, management UI) tell agents apart. */
export function connectionName(nodeId: string): string {
  return `virtbus-agent-${nodeId}`;
}

/** Binding key for every event of a node ('*': of every node). */
export function eventBindingKey(nodeId: string | '*'): string {
  return nodeId === '*' ? 'v1.#' : `v1.${nodeId}.#`;
}

/** Binding key for one presence event of every node. */
export function presenceBindingKey(event: 'online' | 'heartbeat' | 'offline'): string {
  return `v1.*.agent.*.${event}`;
}

// ---- MQTT 5 / 3.1.1 -------------------------------------------------------

export const TOPIC_ROOT = 'virtbus/v1';
/** the fleet-wide command topic's node slot; no agent may use it as its id */
export const BROADCAST_NODE = 'all';

/** Contract node ids, minus 'all': that node's command topic would be the broadcast one. */
export function assertMqttNodeId(nodeId: string): void {
  assertNodeId(nodeId);
  if (nodeId === BROADCAST_NODE)
    throw new RangeError(`node id '${BROADCAST_NODE}' is reserved for fleet-wide commands on MQTT`);
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
  return part.replace(
    /[%/+#\u0000-\u001f\u007f-\u009f]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

/** Longest id level (bytes, encoded) written as it is; as in AMQP routing keys, a longer one is `~` + base64url(SHA-256(id)). */
export const MAX_ID_LEVEL_BYTES = 512;

function idLevel(id: string): string {
  const level = topicLevel(id);
  if (Buffer.byteLength(level) <= MAX_ID_LEVEL_BYTES) return level;
  return idDigest(id);
}

/** virtbus/v1/<node>/<object>/<id>/<event> */
export function eventTopic(nodeId: string, object: string, id: string, event: string): string {
  for (const [name, part] of [
    ['object', object],
    ['id', id],
    ['event', event],
  ] as const) {
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
  if (hasControlCharacter(topic)) return 'reply topic contains a control character';
  if (!isWellFormedUnicode(topic)) return 'reply topic is not valid Unicode';
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

/** Topic filter for every event of a node ('*': of every node). */
export function eventTopicFilter(nodeId: string | '*'): string {
  return `${TOPIC_ROOT}/${nodeId === '*' ? '+' : nodeId}/+/+/+`;
}

/** Topic filters for every agent's presence: its events and its retained status. */
export const PRESENCE_TOPIC_FILTERS = [`${TOPIC_ROOT}/+/agent/+/+`, `${TOPIC_ROOT}/+/status`];

/** Reply topics live under virtbus/reply/<caller>/… (contract), so an ACL can give each caller its own. */
export const REPLY_TOPIC_ROOT = 'virtbus/reply';
