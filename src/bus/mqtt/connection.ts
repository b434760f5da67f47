// The mqtt.js options every agent connection needs. One place, because
// each of them is a broker guarantee the rest of the transport relies on.
import type { IClientOptions } from 'mqtt';
import { credentialsOf, tlsOptions, type Endpoint } from '../../endpoint';

export interface ConnectOptions {
  /** the broker URL of this attempt (one of the endpoint's) */
  url: string;
  /** credentials and TLS material for it */
  endpoint: Endpoint;
  clientId: string;
  /** 5, or 4 = MQTT 3.1.1 */
  protocolVersion: 4 | 5;
  keepaliveS: number;
  /** MQTT 5: how long the broker keeps the session (subscriptions, queued QoS 1) after a connection ends */
  sessionExpiryS: number;
  /** MQTT 5: QoS 1 commands the broker may have in flight to us, unacknowledged (our prefetch) */
  receiveMaximum: number;
  /** TCP connect + CONNACK, ms */
  connectTimeoutMs: number;
  will: { topic: string; payload: Buffer; contentType: string; delayS: number };
}

const noTrace = (): void => undefined;

export function clientOptions(o: ConnectOptions): IClientOptions {
  const v5 = o.protocolVersion === 5;
  return {
    protocolVersion: o.protocolVersion,
    clientId: o.clientId,
    ...credentialsOf(o.url, o.endpoint),
    // mqtts://: CA, client certificate, server name (read at every connect)
    ...tlsOptions(o.endpoint),
    keepalive: o.keepaliveS,
    // A persistent session: the broker keeps our subscriptions and queues
    // QoS 1 commands while we are away, and resends the ones we had not
    // acknowledged. The fixed clientId is what lets it find the session again.
    clean: false,
    // We reconnect ourselves, with backoff and jitter: mqtt.js's fixed period
    // would bring a fleet that lost the same broker back in lockstep. Each
    // connection is a new client (see session.ts), so mqtt.js must not
    // resubscribe or queue on its own either.
    reconnectPeriod: 0,
    resubscribe: false,
    queueQoSZero: false,
    connectTimeout: o.connectTimeoutMs,
    // mqtt.js traces every packet through `debug` (DEBUG=mqttjs*), whose
    // rest parameters allocate even when tracing is off: ~10 calls per
    // command, a tenth of the agent's garbage. Our own log says what matters.
    log: noTrace,
    // The caller starts the connection once the inbound hook is in place:
    // with a persistent session the broker may send commands right after CONNACK.
    manualConnect: true,
    will: {
      topic: o.will.topic,
      payload: o.will.payload,
      qos: 1,
      retain: true,
      // MQTT 5: a reconnect within the delay cancels the will, so a network
      // blip or broker failover does not flap presence to offline and back.
      ...(v5 && { properties: { willDelayInterval: o.will.delayS, contentType: o.will.contentType } }),
    },
    ...(v5 && { properties: { sessionExpiryInterval: o.sessionExpiryS, receiveMaximum: o.receiveMaximum } }),
  };
}
