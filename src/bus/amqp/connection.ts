// Getting an AMQP connection: the socket options every agent connection
// needs (the recovery core in src/reconnect/recovering.ts retries it).
import * as amqp from 'amqplib';
import { connectionName } from '../../contract/addresses';
import { tlsOptions, withCredentials, type Endpoint } from '../../endpoint';
import { coalesceWrites } from '../coalesce';
import { socketOf } from './socket';

export interface ConnectOptions {
  /** the broker URL of this attempt (one of the endpoint's) */
  url: string;
  /** credentials and TLS material for it */
  endpoint: Endpoint;
  nodeId: string;
  /** AMQP heartbeat: detects a dead peer behind a silent network within ~2x this */
  heartbeatS: number;
  /** TCP connect + AMQP handshake, ms */
  connectTimeoutMs: number;
  /** plain: user name and password; external: the TLS client certificate (SASL EXTERNAL, rabbitmq_auth_mechanism_ssl) */
  auth?: 'plain' | 'external';
}

/** Opens one connection; no retries. Its frames of one event-loop turn leave in one write (coalesce.ts). */
export async function openConnection(o: ConnectOptions): Promise<amqp.ChannelModel> {
  // amqplib reads the heartbeat only from the URL query (or a URL object,
  // which would lose the caller's other query options).
  // EXTERNAL: the broker takes the user name from the certificate; no password goes over the wire
  const url = new URL(o.auth === 'external' ? o.url : withCredentials(o.url, o.endpoint));
  url.searchParams.set('heartbeat', String(o.heartbeatS));
  const model = await amqp.connect(url.toString(), {
    // amqps://: handed to tls.connect (CA, client certificate, server name)
    ...tlsOptions(o.endpoint),
    // Without TCP_NODELAY, Nagle's algorithm holds small frames until the
    // peer's delayed ACK: ~40 ms per request/reply even on loopback.
    noDelay: true,
    // Bounds a connect to a black-holed host; amqplib clears it once open.
    timeout: o.connectTimeoutMs,
    // Shown by rabbitmqctl list_connections / the management UI, so an
    // operator can tell which agent a connection belongs to.
    clientProperties: { connection_name: connectionName(o.nodeId) },
    ...(o.auth === 'external' && { credentials: amqp.credentials.external() }),
  });
  const socket = socketOf(model);
  if (socket) coalesceWrites(socket);
  return model;
}
