// Presence on virtbus/v1/<node>/status: retained, so a consumer that
// subscribes later still learns the node's state. Online after every
// connect, offline on a clean close, and the broker's Last Will sets it
// offline when the agent vanishes without one.
export interface StatusPayload {
  online: () => Buffer;
  offline: () => Buffer;
  contentType: string;
}

/** Used when the agent gives none: enough for a dashboard; the agent adds bootId and version. */
export function defaultStatusPayload(nodeId: string): StatusPayload {
  return {
    online: () => Buffer.from(JSON.stringify({ status: 'online', node: nodeId })),
    offline: () => Buffer.from(JSON.stringify({ status: 'offline', node: nodeId })),
    contentType: 'application/json',
  };
}
