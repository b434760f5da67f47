// Getting an AMQP connection: the socket options every agent connection
// needs, and the retry loop used for the first connect and every reconnect.
import * as amqp from 'amqplib';
import { Backoff, sleep, type BackoffOptions } from '../../reconnect/backoff';
import { connectionName } from '../../contract/addresses';

export interface ConnectOptions {
  url: string;
  nodeId: string;
  /** AMQP heartbeat: detects a dead peer behind a silent network within ~2x this */
  heartbeatS: number;
  /** TCP connect + AMQP handshake, ms */
  connectTimeoutMs: number;
}

/** Opens one connection; no retries. */
export function openConnection(o: ConnectOptions): Promise<amqp.ChannelModel> {
  // amqplib reads the heartbeat only from the URL query (or a URL object,
  // which would lose the caller's other query options).
  const url = new URL(o.url);
  url.searchParams.set('heartbeat', String(o.heartbeatS));
  return amqp.connect(url.toString(), {
    // Without TCP_NODELAY, Nagle's algorithm holds small frames until the
    // peer's delayed ACK: ~40 ms per request/reply even on loopback.
    noDelay: true,
    // Bounds a connect to a black-holed host; amqplib clears it once open.
    timeout: o.connectTimeoutMs,
    // Shown by rabbitmqctl list_connections / the management UI, so an
    // operator can tell which agent a connection belongs to.
    clientProperties: { connection_name: connectionName(o.nodeId) },
  });
}

export { redactUrl } from '../url';

export interface RetryLoopOptions {
  backoff?: BackoffOptions;
  /** aborting ends the loop, rejecting with the signal's reason */
  signal: AbortSignal;
  /** errors retrying cannot fix; the loop rethrows them at once */
  isFatal: (err: unknown) => boolean;
  onFailure: (err: unknown, info: { attempt: number; delayMs: number }) => void;
  /**
   * Wait one (jittered) backoff delay before the first attempt too. For
   * reconnects: every agent loses a restarting broker at the same instant,
   * and immediate first attempts would all land together.
   */
  delayFirst?: boolean;
}

/**
 * Runs attempt until it succeeds, with backoff + jitter between failures
 * (a fleet of agents that lost the same broker must not return in lockstep).
 */
export async function retryUntilUp<T>(attempt: () => Promise<T>, o: RetryLoopOptions): Promise<T> {
  const backoff = new Backoff(o.backoff);
  if (o.delayFirst) await sleep(backoff.next(), o.signal);
  for (let n = 1; ; n++) {
    o.signal.throwIfAborted();
    try {
      return await attempt();
    } catch (err) {
      if (o.signal.aborted) throw o.signal.reason;
      if (o.isFatal(err)) throw err;
      const delayMs = backoff.next();
      o.onFailure(err, { attempt: n, delayMs });
      await sleep(delayMs, o.signal);
    }
  }
}
