import { Connection, type ConnectionEvents, type EventSubscription, type OpenOptions } from './connection';
import type { LibvirtEvent } from './events';
import { Backoff, sleep, type BackoffOptions } from '../reconnect/backoff';
import { TypedEmitter } from '../typed-emitter';

export type ReconnectingConnectionEvents = Omit<ConnectionEvents, 'close'> & {
  /** the first connection is up (events subscribed if asked) */
  connected: (conn: Connection) => void;
  /** the connection was lost; calls fail with NotConnectedError until reconnected */
  disconnected: (info: { reason: string }) => void;
  /** a new connection replaced a lost one; events are re-registered */
  reconnected: (conn: Connection, info: { downMs: number }) => void;
  /** one failed attempt to (re)connect; another follows after delayMs */
  'connect-failed': (err: unknown, info: { attempt: number; delayMs: number }) => void;
};

export interface ReconnectingOptions extends OpenOptions {
  /** subscribe to all events on every connection (default true) */
  events?: boolean;
  backoff?: BackoffOptions;
  /** how often to probe the connection besides libvirt's close callback (ms, default 2000; 0 off) */
  probeIntervalMs?: number;
}

export class NotConnectedError extends Error {
  constructor(uri: string) {
    super(`libvirt at ${uri} is not connected`);
    this.name = 'NotConnectedError';
  }
}

/**
 * Keeps one libvirt connection open: after a close (daemon restart, network
 * loss, keepalive timeout) it reopens with backoff + jitter, re-registers the
 * event callbacks and emits `reconnected`. Events of whichever connection is
 * current are re-emitted here, so subscribers attach once.
 */
export class ReconnectingConnection extends TypedEmitter<ReconnectingConnectionEvents> {
  private current?: Connection;
  private readonly abort = new AbortController();
  private recovering?: Promise<void>;
  private probe?: NodeJS.Timeout;
  private started?: Promise<void>;
  lastSubscription?: EventSubscription;

  constructor(readonly uri: string, private readonly o: ReconnectingOptions = {}) {
    super();
  }

  /** Connects (retrying with backoff until it works or close() is called). */
  start(): Promise<void> {
    this.started ??= this.connectLoop().then((conn) => {
      this.emit('connected', conn);
      this.startProbe();
    });
    return this.started;
  }

  get connected(): boolean { return this.current !== undefined; }

  /** The live connection; throws NotConnectedError while reconnecting. */
  get connection(): Connection {
    if (!this.current) throw new NotConnectedError(this.uri);
    return this.current;
  }

  private async openOnce(): Promise<Connection> {
    const conn = await Connection.open(this.uri, this.o);
    try {
      if (this.o.events !== false) this.lastSubscription = await conn.subscribeEvents();
    } catch (e) {
      await conn.close().catch(() => undefined);
      throw e;
    }
    conn.on('event', (e: LibvirtEvent) => this.forward(e));
    conn.on('close', ({ reason }) => this.lost(conn, reason));
    return conn;
  }

  private forward(e: LibvirtEvent): void {
    this.emit(e.type, e as never);
    this.emit('event', e);
  }

  private async connectLoop(): Promise<Connection> {
    const backoff = new Backoff(this.o.backoff);
    for (;;) {
      try {
        const conn = await this.openOnce();
        if (this.abort.signal.aborted) {
          await conn.close().catch(() => undefined);
          throw this.abort.signal.reason;
        }
        this.current = conn;
        return conn;
      } catch (err) {
        if (this.abort.signal.aborted) throw err;
        const delayMs = backoff.next();
        this.emit('connect-failed', err, { attempt: backoff.attempts, delayMs });
        await sleep(delayMs, this.abort.signal);
      }
    }
  }

  private startProbe(): void {
    const every = this.o.probeIntervalMs ?? 2000;
    if (every <= 0) return;
    this.probe = setInterval(() => {
      const conn = this.current;
      if (!conn) return;
      conn.isAlive().then(
        (alive) => { if (!alive) this.lost(conn, 'not-alive'); },
        () => this.lost(conn, 'probe-failed'),
      );
    }, every);
    this.probe.unref();
  }

  private lost(conn: Connection, reason: string): void {
    if (conn !== this.current || this.abort.signal.aborted) return;
    this.current = undefined;
    const since = Date.now();
    this.emit('disconnected', { reason });
    void conn.close().catch(() => undefined);
    this.recovering = this.connectLoop().then(
      (next) => { this.emit('reconnected', next, { downMs: Date.now() - since }); },
      () => undefined, // aborted by close()
    ).finally(() => { this.recovering = undefined; });
  }

  /** Stops reconnecting and closes the current connection. Idempotent. */
  async close(): Promise<void> {
    if (!this.abort.signal.aborted) this.abort.abort(new Error('closed'));
    if (this.probe) clearInterval(this.probe);
    await this.recovering;
    const conn = this.current;
    this.current = undefined;
    await conn?.close();
  }
}
