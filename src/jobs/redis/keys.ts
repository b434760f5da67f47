// Names in Redis. The queue is per node; our own keys sit beside BullMQ's
// under the same prefix.

/** BullMQ queue of one node's jobs. */
export const queueName = (node: string): string => `virtbus-jobs-${node}`;

/**
 * BullMQ job id of a command id. BullMQ refuses ids that look like integers
 * or contain ':' (its key separator); a prefix and percent-escaping keep the
 * mapping one-to-one.
 */
export function jobIdFor(commandId: string): string {
  return `c-${commandId.replace(/%/g, '%25').replace(/:/g, '%3A')}`;
}

export const idempotencyKey = (prefix: string, node: string, id: string): string => `${prefix}:idem:${node}:${id}`;
/** ids whose idempotency entry says running: scanned at start for entries a dead agent left */
export const runningCommandsKey = (prefix: string, node: string): string => `${prefix}:idem-running:${node}`;
/** finished jobs whose reply was not confirmed delivered */
export const unrepliedKey = (prefix: string, node: string): string => `${prefix}:jobs-unreplied:${node}`;
