// The AMQP names of wire contract v1 (shared/design/contract-v1.md). Other
// agents, orchestrators and other-language clients depend on these
// spellings, so they live in one place and nowhere else.
import { createHash } from 'node:crypto';

export const EVENTS_EXCHANGE = 'virtbus.events';
export const COMMANDS_EXCHANGE = 'virtbus.commands';
export const BROADCAST_EXCHANGE = 'virtbus.broadcast';
export const DEAD_LETTER_EXCHANGE = 'virtbus.dlx';
export const DEAD_LETTER_QUEUE = 'virtbus.dlq';

/** Contract node ids; anything else could smuggle routing-key syntax. */
const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function assertNodeId(nodeId: string): void {
  if (!NODE_ID.test(nodeId)) throw new RangeError(`invalid node id '${nodeId}': must match ${NODE_ID}`);
}

/** The node's own command queue, bound to virtbus.commands with the node id. */
export function commandQueue(nodeId: string): string {
  return `virtbus.cmd.${nodeId}`;
}

/**
 * One routing-key word from a free-form part (a caller's command id). A '.'
 * would shift every later word and break consumers' topic patterns, and
 * control characters have no place in a key an operator reads, so they are
 * percent-encoded, '%' too, so the mapping is reversible and two ids never
 * share a key.
 */
export function routingKeyWord(part: string): string {
  return part.replace(/[.%\u0000-\u001f\u007f-\u009f]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
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
  return `~${createHash('sha256').update(id, 'utf8').digest('base64url')}`;
}

/** v1.<node>.<object>.<id>.<event>; parts are encoded as routingKeyWord/routingKeyId say. */
export function eventRoutingKey(nodeId: string, object: string, id: string, event: string): string {
  for (const [name, part] of [['object', object], ['id', id], ['event', event]] as const) {
    if (part.length === 0) throw new RangeError(`event ${name} must be non-empty`);
  }
  const head = `v1.${nodeId}.${routingKeyWord(object)}.`;
  const tail = `.${routingKeyWord(event)}`;
  const key = `${head}${routingKeyId(Buffer.byteLength(head) + Buffer.byteLength(tail), id)}${tail}`;
  if (Buffer.byteLength(key) > MAX_ROUTING_KEY_BYTES) throw new RangeError(`event routing key longer than ${MAX_ROUTING_KEY_BYTES} bytes: ${key.slice(0, 64)}…`);
  return key;
}

/** clientProperties.connection_name: lets operators (rabbitmqctl, management UI) tell agents apart. */
export function connectionName(nodeId: string): string {
  return `virtbus-agent-${nodeId}`;
}
