// The AMQP names of wire contract v1 (shared/design/contract-v1.md). Other
// agents, orchestrators and other-language clients depend on these
// spellings, so they live in one place and nowhere else.

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
 * v1.<node>.<object>.<id>.<event>. A '.' inside a part would shift every
 * later word and break consumers' topic patterns, and AMQP caps routing
 * keys at 255 bytes, so both are refused here rather than by the broker.
 */
export function eventRoutingKey(nodeId: string, object: string, id: string, event: string): string {
  for (const [name, part] of [['object', object], ['id', id], ['event', event]] as const) {
    if (part.length === 0 || part.includes('.')) {
      throw new RangeError(`event ${name} '${part}' must be non-empty and contain no '.'`);
    }
  }
  const key = `v1.${nodeId}.${object}.${id}.${event}`;
  if (Buffer.byteLength(key) > 255) throw new RangeError(`event routing key longer than 255 bytes: ${key}`);
  return key;
}

/** clientProperties.connection_name: lets operators (rabbitmqctl, management UI) tell agents apart. */
export function connectionName(nodeId: string): string {
  return `virtbus-agent-${nodeId}`;
}
