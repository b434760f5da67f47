// systemd's notify protocol (sd_notify(3)) for Type=notify units with
// WatchdogSec=: the service says READY=1 once it serves, STOPPING=1 when it
// begins to shut down, and WATCHDOG=1 at least every WATCHDOG_USEC — but only
// while it is actually healthy, so that systemd restarts an agent that hangs
// instead of one whose timer still ticks. The datagram itself is sent by the
// addon (Node cannot send AF_UNIX datagrams); everything else is here.
//
// Notification is best effort: no method throws into its caller, a failure
// goes to `onError`. Without NOTIFY_SOCKET (not started by systemd, or not
// Type=notify) every method is a no-op.
import { types } from 'node:util';
import { native } from '../libvirt/binding';

export interface SystemdNotifierOptions {
  /** where NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID are read (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** this process's pid, compared with WATCHDOG_PID (default process.pid) */
  pid?: number;
  /** a notification that could not be sent, or a health check that threw */
  onError?: (err: Error) => void;
}

export class SystemdNotifier {
  /** NOTIFY_SOCKET: a path, or '@name' for an abstract socket; undefined means disabled */
  readonly socket: string | undefined;
  /** WATCHDOG_USEC when the watchdog is meant for this process, else undefined */
  readonly watchdogUsec: number | undefined;
  private readonly onError: (err: Error) => void;
  private timer: NodeJS.Timeout | undefined;

  constructor(o: SystemdNotifierOptions = {}) {
    const env = o.env ?? process.env;
    this.onError = o.onError ?? (() => undefined);
    this.socket = notifySocket(env.NOTIFY_SOCKET, this.onError);
    this.watchdogUsec = this.socket ? watchdogUsec(env, o.pid ?? process.pid) : undefined;
  }

  /** NOTIFY_SOCKET is set and usable. */
  get enabled(): boolean {
    return this.socket !== undefined;
  }
  /** The unit has WatchdogSec= and it applies to this process. */
  get watchdogEnabled(): boolean {
    return this.watchdogUsec !== undefined;
  }

  /** READY=1 (with STATUS= if given): start-up is complete. */
  ready(status?: string): boolean {
    return this.notify({ READY: '1', STATUS: status });
  }
  /** STATUS=: free text systemctl status shows. */
  status(text: string): boolean {
    return this.notify({ STATUS: text });
  }
  /** STOPPING=1 (with STATUS= if given): shutdown has begun; also ends the watchdog. */
  stopping(status?: string): boolean {
    this.stop();
    return this.notify({ STOPPING: '1', STATUS: status });
  }

  /**
   * Sends WATCHDOG=1 now and every WATCHDOG_USEC/2 (systemd's advice) while
   * isHealthy() says true; a tick that finds the agent unhealthy (or whose
   * check throws) sends nothing, so systemd's watchdog fires if it stays so.
   * Replaces an earlier watchdog. Returns false when there is no watchdog to feed.
   */
  startWatchdog(isHealthy: () => boolean): boolean {
    this.stop();
    if (this.watchdogUsec === undefined) return false;
    const tick = () => {
      let healthy = false;
      try {
        healthy = isHealthy();
      } catch (e) {
        this.onError(asError(e, 'watchdog health check failed'));
      }
      if (healthy) this.notify({ WATCHDOG: '1' });
    };
    // The timer must not keep an agent alive that is otherwise done.
    this.timer = setInterval(tick, Math.max(1, Math.floor(this.watchdogUsec / 2000))).unref();
    tick();
    return true;
  }

  /** Stops the watchdog timer; sends nothing. Idempotent. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Sends KEY=value lines (undefined values left out); false if nothing was sent. */
  notify(fields: Record<string, string | undefined>): boolean {
    if (!this.socket) return false;
    const lines = Object.entries(fields)
      .filter((f): f is [string, string] => f[1] !== undefined)
      // one assignment per line: a newline in a status would start a bogus one
      .map(([k, v]) => `${k}=${v.replace(/[\r\n]+/g, ' ')}`);
    if (!lines.length) return false;
    try {
      native.notifySocketSend(this.socket, lines.join('\n'));
      return true;
    } catch (e) {
      this.onError(asError(e, 'sd_notify failed'));
      return false;
    }
  }
}

/** systemd hands out an absolute path or an abstract '@name'; anything else (vsock:…) is not supported here. */
function notifySocket(v: string | undefined, onError: (err: Error) => void): string | undefined {
  if (!v) return undefined;
  if (v.startsWith('/') || (v.startsWith('@') && v.length > 1)) return v;
  onError(new Error(`NOTIFY_SOCKET=${v} is not a unix socket path or @abstract name; not notifying systemd`));
  return undefined;
}

/** WATCHDOG_USEC, unless WATCHDOG_PID names another process (the watchdog is then not ours to feed). */
function watchdogUsec(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && Number(env.WATCHDOG_PID) !== pid) return undefined;
  const usec = Number(env.WATCHDOG_USEC);
  return env.WATCHDOG_USEC && Number.isSafeInteger(usec) && usec > 0 ? usec : undefined;
}

function asError(e: unknown, what: string): Error {
  // isNativeError, not instanceof: the addon's errors come from the main realm (not jest's)
  return e instanceof Error || types.isNativeError(e) ? e : new Error(`${what}: ${String(e)}`);
}
