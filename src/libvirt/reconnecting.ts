// Keeps one libvirt connection open through daemon restarts, network loss
// and keepalive timeouts, on the shared recovery core: a session here is one
// Connection with its event registration; a replacement re-registers the
// events and is announced as `reconnected`.
import { Connection, type ConnectionEvents, type EventSubscription, type OpenOptions } from './connection';
import type { LibvirtEvent } from './events';
import type { BackoffOptions } from '../reconnect/backoff';
import { Recovering, type Session } from '../reconnect/recovering';
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

/** One libvirt connection as a recovery session: lost on libvirt's close callback or a failed probe. */
class LibvirtSession implements Session {
  readonly lost: Promise<string>;
  private markLost!: (reason: string) => void;

  constructor(
    readonly conn: Connection,
    readonly subscription?: EventSubscription,
  ) {
    this.lost = new Promise((resolve) => {
      this.markLost = resolve;
    });
    conn.on('close', ({ reason }) => this.markLost(reason));
  }

  abandon(reason: string): Promise<void> {
    this.markLost(reason);
    return this.conn.close().catch(() => undefined);
  }

  close(): Promise<void> {
    return this.abandon('closed by the client');
  }
}

/**
 * Events of whichever connection is current are re-emitted here, so
 * subscribers attach once.
 */
export class ReconnectingConnection extends TypedEmitter<ReconnectingConnectionEvents> {
  private readonly recovery: Recovering<LibvirtSession>;
  private probe?: NodeJS.Timeout;
  private started?: Promise<void>;

  constructor(
    readonly uri: string,
    private readonly o: ReconnectingOptions = {},
  ) {
    super();
    this.recovery = new Recovering<LibvirtSession>({
      name: 'libvirt',
      backoff: o.backoff,
      open: () => this.openOnce(),
    });
    this.recovery.on('connect-failed', (err, info) => this.emit('connect-failed', err, info));
    this.recovery.on('disconnected', (info) => this.emit('disconnected', info));
    this.recovery.on('connected', (s, { reconnect, downMs }) => {
      if (reconnect) this.emit('reconnected', s.conn, { downMs });
    });
  }

  /** Connects (retrying with backoff until it works or close() is called). */
  start(): Promise<void> {
    this.started ??= this.recovery.start().then((s) => {
      this.emit('connected', s.conn);
      this.startProbe();
    });
    return this.started;
  }

  get connected(): boolean {
    return this.recovery.session !== undefined;
  }

  /** The live connection; throws NotConnectedError while reconnecting. */
  get connection(): Connection {
    const s = this.recovery.session;
    if (!s) throw new NotConnectedError(this.uri);
    return s.conn;
  }

  /** what the current connection registered (undefined while reconnecting) */
  get lastSubscription(): EventSubscription | undefined {
    return this.recovery.session?.subscription;
  }

  private async openOnce(): Promise<LibvirtSession> {
    const conn = await Connection.open(this.uri, this.o);
    try {
      const subscription = this.o.events !== false ? await conn.subscribeEvents() : undefined;
      conn.on('event', (e: LibvirtEvent) => this.forward(e));
      return new LibvirtSession(conn, subscription);
    } catch (e) {
      await conn.close().catch(() => undefined);
      throw e;
    }
  }

  private forward(e: LibvirtEvent): void {
    this.emit(e.type, e as never);
    this.emit('event', e);
  }

  private startProbe(): void {
    const every = this.o.probeIntervalMs ?? 2000;
    if (every <= 0) return;
    this.probe = setInterval(() => {
      const s = this.recovery.session;
      if (!s) return;
      s.conn.isAlive().then(
        (alive) => {
          if (!alive) void s.abandon('not-alive');
        },
        () => void s.abandon('probe-failed'),
      );
    }, every);
    this.probe.unref();
  }

  /** Stops reconnecting and closes the current connection. Idempotent. */
  async close(): Promise<void> {
    if (this.probe) clearInterval(this.probe);
    await this.recovery.close();
  }
}
