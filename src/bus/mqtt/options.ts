// MqttTransport options: defaults and validation, once, before anything connects.
import type { BackoffOptions } from '../../reconnect/backoff';
import { describeEndpoint, schemeFamily, toEndpoint, type Endpoint, type EndpointInput } from '../../endpoint';
import { assertMqttNodeId as assertNodeId, defaultClientId } from '../../contract/addresses';
import { defaultStatusPayload, type StatusPayload } from './presence';

export interface MqttTransportOptions {
  /** mqtt://host:port or mqtts://host:port; several (fail-over brokers) are tried in turn */
  endpoint: EndpointInput;
  nodeId: string;
  /** 5 (default) or 4 = MQTT 3.1.1 */
  protocolVersion?: 5 | 4;
  /** default virtbus-agent-<node>; must stay the same across restarts for the persistent session */
  clientId?: string;
  /** MQTT 5: how long the broker keeps the session after a connection ends, default 3600 s */
  sessionExpiryS?: number;
  /** MQTT 5: the broker publishes the offline will this long after losing us, unless we are back, default 5 s */
  willDelayS?: number;
  /** MQTT keepalive, default 15 s: a silently dead connection is noticed within ~1.5x this */
  keepaliveS?: number;
  backoff?: BackoffOptions;
  /** largest payload published, default 128 MiB; keep it ≤ the broker's limit (Mosquitto message_size_limit) */
  maxMessageBytes?: number;
  /** presence payloads on virtbus/v1/<node>/status; default {"status":"online"|"offline","node":…} */
  statusPayload?: StatusPayload;
  /**
   * MQTT 5: commands the broker may have in flight to us unacknowledged
   * (Receive Maximum; the agent acks after the reply), default 16. On 3.1.1
   * the broker decides (Mosquitto max_inflight_messages 20, RabbitMQ mqtt.prefetch 10).
   */
  receiveMaximum?: number;
  /** published-but-not-PUBACKed messages, default 64 (also capped by the broker's Receive Maximum) */
  maxInFlightPublishes?: number;
  /** publishes waiting for a window slot or a reconnect, default 10000; more are refused at once */
  maxQueuedPublishes?: number;
  /** how long close() waits for the offline status and outstanding PUBACKs, default 10000 ms */
  closeTimeoutMs?: number;
  /** TCP connect + CONNACK, default 10000 ms */
  connectTimeoutMs?: number;
  /**
   * Replies only to topics that start with this (e.g. virtbus/reply/, where
   * the deploy/ ACL lets agents write). Under an ACL a reply the broker
   * refuses costs the connection (Mosquitto drops the client), so a caller
   * could otherwise make the agent reconnect at will. Default: any topic.
   */
  replyTopicPrefix?: string;
}

const DEFAULTS = {
  sessionExpiryS: 3600,
  willDelayS: 5,
  keepaliveS: 15,
  maxMessageBytes: 128 * 1024 * 1024,
  receiveMaximum: 16,
  maxInFlightPublishes: 64,
  maxQueuedPublishes: 10000,
  closeTimeoutMs: 10000,
  connectTimeoutMs: 10000,
};

/** [min, max] per numeric option; the maxima are the MQTT field widths. */
const RANGES: Record<keyof typeof DEFAULTS, [number, number]> = {
  sessionExpiryS: [0, 0xffffffff],
  willDelayS: [0, 0xffffffff],
  keepaliveS: [1, 0xffff],
  maxMessageBytes: [1, 268435455],
  receiveMaximum: [1, 0xffff],
  maxInFlightPublishes: [1, 0xffff],
  maxQueuedPublishes: [1, Number.MAX_SAFE_INTEGER],
  closeTimeoutMs: [1, Number.MAX_SAFE_INTEGER],
  connectTimeoutMs: [1, Number.MAX_SAFE_INTEGER],
};

export type ResolvedOptions = typeof DEFAULTS & {
  endpoint: Endpoint;
  nodeId: string;
  protocolVersion: 4 | 5;
  clientId: string;
  backoff?: BackoffOptions;
  statusPayload: StatusPayload;
  replyTopicPrefix: string;
};

export function resolveOptions(o: MqttTransportOptions): ResolvedOptions {
  assertNodeId(o.nodeId);
  const endpoint = toEndpoint(o.endpoint);
  if (schemeFamily(endpoint) !== 'mqtt')
    throw new RangeError(`MQTT url must be mqtt:// or mqtts://, got ${describeEndpoint(endpoint)}`);
  const protocolVersion = o.protocolVersion ?? 5;
  if (protocolVersion !== 5 && protocolVersion !== 4)
    throw new RangeError(`MQTT protocolVersion must be 5 or 4 (3.1.1), got ${protocolVersion}`);
  const clientId = o.clientId ?? defaultClientId(o.nodeId);
  // An empty id would make the broker assign one per connection: no persistent session.
  if (clientId.length === 0 || Buffer.byteLength(clientId) > 65535)
    throw new RangeError('MQTT clientId must be 1..65535 bytes');
  const r: ResolvedOptions = {
    ...DEFAULTS,
    endpoint,
    nodeId: o.nodeId,
    protocolVersion,
    clientId,
    backoff: o.backoff,
    statusPayload: o.statusPayload ?? defaultStatusPayload(o.nodeId),
    replyTopicPrefix: o.replyTopicPrefix ?? '',
  };
  for (const k of Object.keys(DEFAULTS) as Array<keyof typeof DEFAULTS>) {
    const v = o[k];
    if (v === undefined) continue;
    const [min, max] = RANGES[k];
    if (!Number.isInteger(v) || v < min || v > max)
      throw new RangeError(`MQTT option ${k} must be an integer within ${min}..${max}, got ${v}`);
    r[k] = v;
  }
  return r;
}
