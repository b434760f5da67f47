// The one recovery core (in the manner of amqplib's lib/recovery.js): keeps
// one session of something — an AMQP connection with its channels, an MQTT
// connection, a libvirt connection, a bus client — alive. It opens a session,
// runs the owner's set-up steps (each raced against the session's loss and
// close()), emits typed `connected` / `disconnected` / `connect-failed`,
// opens a new session with backoff + jitter whenever the current one is lost,
// and closes idempotently. Owners keep only what is theirs: how to open a
// session and what to do on it (encoding, publish mapping, delivery).
//
// Recovery is always "new session, set up everything again": nothing of a
// lost session is reused, so there is one code path for the first connect
// and every reconnect.
import { BACKOFF_DEFAULTS, Backoff, sleep, type BackoffOptions } from './backoff';

/** the first attempt after a loss: somewhere in this window (ms) */
const RECONNECT_SPREAD_MS = 1000;
import { TypedEmitter } from '../typed-emitter';

/** What the core needs of a session. */
export interface Session {
  /** resolves (never rejects) with the reason once the session is unusable */
  readonly lost: Promise<string>;
  /** orderly end (goodbye to the peer); never rejects, bounded */
  close(): Promise<void>;
  /** ends it now, without an orderly goodbye (e.g. MQTT keeps its will armed); never throws */
  abandon(reason: string): void | Promise<void>;
}

export type RecoveryEvents<S> = {
  /** a session is open and set up: the first one (reconnect false) or a replacement */
  connected: (session: S, info: { reconnect: boolean; downMs: number }) => void;
  /** the session was lost; a replacement is being opened */
  disconnected: (info: { reason: string }) => void;
  /** one attempt failed; the next follows after delayMs */
  'connect-failed': (err: unknown, info: { attempt: number; delayMs: number }) => void;
  /** an error retrying cannot fix (isFatal): no more attempts */
  'gave-up': (err: Error) => void;
};

export interface SetupContext {
  /** true for every session after the first */
  reconnect: boolean;
  /** aborted by close() */
  signal: AbortSignal;
  /**
   * Awaits a set-up step unless the session is lost or close() is called
   * first. Without this, a step whose work waits for a reconnect (a
   * snapshot published through a window that waits for the next session)
   * would wait forever: the reconnect is waiting for it.
   */
  step<T>(p: Promise<T>, what: string): Promise<T>;
}

export interface RecoveryOptions<S extends Session> {
  /** for messages: 'AMQP', 'MQTT', 'libvirt', 'presence' */
  name: string;
  /** Opens one session; no retries (attempt counts from 1 per outage). */
  open(attempt: number, signal: AbortSignal): Promise<S>;
  /** Set-up steps on a new session before it counts as connected. */
  setup?(s: S, ctx: SetupContext): Promise<void>;
  /** Undoes what setup attached, when a session is lost or its set-up failed (e.g. detach a publisher). */
  detach?(s: S): void;
  /**
   * How a session whose set-up failed is ended: 'close' (orderly, the
   * default) or 'abandon' (MQTT: no DISCONNECT, the will stays armed).
   */
  discard?: 'close' | 'abandon';
  /** errors retrying cannot fix: the loop stops and emits 'gave-up' */
  isFatal?(err: unknown): boolean;
  backoff?: BackoffOptions;
  /** the first attempt after a loss comes at a random moment within this (ms, default 1000, at most backoff's ceiling) */
  reconnectSpreadMs?: number;
}

/** Rejects with the loss as an error once the session is lost. */
function lossOf(s: Session, name: string, what: string): Promise<never> {
  return s.lost.then((reason): never => {
    throw new Error(`${name} connection lost during ${what}: ${reason}`);
  });
}

export class Recovering<S extends Session> extends TypedEmitter<RecoveryEvents<S>> {
  private current?: S;
  private readonly abort = new AbortController();
  private started?: Promise<S>;
  private recovering?: Promise<unknown>;
  private closing?: Promise<void>;

  constructor(private readonly o: RecoveryOptions<S>) {
    super();
  }

  /** the open, set-up session; undefined while (re)connecting or after close() */
  get session(): S | undefined {
    return this.current;
  }

  /** aborted once close() was called */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get closed(): boolean {
    return this.abort.signal.aborted;
  }

  /** Opens the first session, retrying until it is set up; rejects only on close() or a fatal error. */
  start(): Promise<S> {
    if (this.closed) return Promise.reject(this.abort.signal.reason);
    this.started ??= this.establish(false, Date.now());
    return this.started;
  }

  /**
   * Stops recovering and ends the session. drain runs first, on the current
   * session (if any), while it is still open: stop consuming, wait for
   * confirms, say goodbye. Idempotent; never rejects.
   */
  close(
    drain?: (s: S | undefined) => Promise<void>,
    reason: Error = new Error(`${this.o.name} closed`),
  ): Promise<void> {
    this.closing ??= (async () => {
      this.abort.abort(reason);
      await drain?.(this.current).catch(() => undefined);
      const s = this.current;
      this.current = undefined;
      if (s) {
        this.o.detach?.(s);
        await s.close();
      }
      // An attempt in progress sees the abort and ends its own session;
      // wait for that so no session outlives close().
      await Promise.allSettled([this.started, this.recovering].filter(Boolean));
    })();
    return this.closing;
  }

  /**
   * Ends the current session in an orderly way (MQTT: a DISCONNECT, so the
   * will is not published) and lets recovery open a new one after one
   * jittered delay — e.g. to present a rotated TLS certificate. Unconfirmed
   * publishes go out again on the new session, unacked deliveries come back
   * from the broker. false when there is no session or while closing.
   */
  renew(): boolean {
    const s = this.current;
    if (!s || this.closed) return false;
    void s.close().catch(() => undefined);
    return true;
  }

  /** Awaits p unless the session is lost or close() comes first (see SetupContext.step). */
  unlessLost<T>(s: S, p: Promise<T>, what: string): Promise<T> {
    const signal = this.abort.signal;
    let onAbort!: () => void;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    const lost = lossOf(s, this.o.name, what);
    // Losing the race leaves these promises rejected with no reader.
    aborted.catch(() => undefined);
    lost.catch(() => undefined);
    p.catch(() => undefined);
    return Promise.race([p, lost, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
  }

  private async establish(reconnect: boolean, since: number): Promise<S> {
    const signal = this.abort.signal;
    const backoff = new Backoff(this.o.backoff);
    // Reconnects wait a random delay first, anywhere within the first
    // second: every agent loses a restarting broker (or a cluster node) at
    // the same instant and must not return together — with backoff's first
    // delay alone (125–250 ms) 80 % of a fleet came back within 100 ms.
    if (reconnect) {
      const spread =
        this.o.reconnectSpreadMs ?? Math.min(RECONNECT_SPREAD_MS, this.o.backoff?.maxMs ?? BACKOFF_DEFAULTS.maxMs);
      await sleep(Math.round((this.o.backoff?.random ?? Math.random)() * spread), signal);
    }
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      let s: S | undefined;
      try {
        s = await this.o.open(attempt, signal);
        signal.throwIfAborted();
        const opened = s;
        await this.o.setup?.(opened, { reconnect, signal, step: (p, what) => this.unlessLost(opened, p, what) });
        // close() may have come while the last step finished; it no longer sees this session.
        signal.throwIfAborted();
        this.current = opened;
        void opened.lost.then((why) => this.onLost(opened, why));
        this.emit('connected', opened, { reconnect, downMs: Date.now() - since });
        return opened;
      } catch (err) {
        if (s) await this.discard(s, err);
        if (signal.aborted) throw signal.reason;
        if (this.o.isFatal?.(err)) {
          this.emit('gave-up', err as Error);
          throw err;
        }
        const delayMs = backoff.next();
        this.emit('connect-failed', err, { attempt, delayMs });
        await sleep(delayMs, signal);
      }
    }
  }

  private async discard(s: S, err: unknown): Promise<void> {
    this.o.detach?.(s);
    if (this.o.discard === 'abandon')
      await s.abandon(`set-up failed: ${err instanceof Error ? err.message : String(err)}`);
    else await s.close();
  }

  private onLost(s: S, reason: string): void {
    // Not current: close() or a failed set-up has detached it already.
    if (this.current !== s) return;
    this.o.detach?.(s);
    this.current = undefined;
    if (this.closed) return;
    this.emit('disconnected', { reason });
    // Make sure nothing more happens on it (an 'error' need not close a socket).
    void Promise.resolve(s.abandon(reason)).catch(() => undefined);
    this.recovering = this.establish(true, Date.now()).catch(() => undefined); // close() or 'gave-up'
  }
}
