// systemd's side of sd_notify(3) for tests without systemd: a unix datagram
// socket (NOTIFY_SOCKET: a path, or '@name' in the abstract namespace) that
// records each message with the sender's pid as the kernel reports it
// (SO_PASSCRED), which is what NotifyAccess=main compares with the main pid,
// and its CLOCK_MONOTONIC receive time. Node cannot receive unix datagrams,
// so a small python3 process listens and prints one JSON line per message.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LISTENER = `
import json, os, socket, struct, sys, time
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
if path.startswith("@"):
    s.bind("\\0" + path[1:])
else:
    s.bind(path)
    os.chmod(path, 0o666)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print(json.dumps({"listening": path}), flush=True)
while True:
    msg, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(12))
    pid = uid = -1
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid, uid, _gid = struct.unpack("iII", data[:12])
    print(json.dumps({"pid": pid, "uid": uid, "mono": time.monotonic(), "msg": msg.decode("utf-8", "replace")}), flush=True)
`;

export interface NotifyMessage {
  /** when it arrived (ms) */
  t: number;
  /** when it arrived, CLOCK_MONOTONIC seconds (for pacing) */
  mono: number;
  /** the sender's pid and uid, from the kernel */
  pid: number;
  uid: number;
  /** the datagram as sent */
  text: string;
  fields: Record<string, string>;
}

export class NotifySocket {
  readonly messages: NotifyMessage[] = [];
  private stderr = '';

  private constructor(
    readonly path: string,
    private readonly dir: string,
    private readonly child: ChildProcess,
  ) {}

  /**
   * Listens on a new socket any user may send to (the service runs as its
   * own user), or on `address` when given ('@name': the abstract namespace).
   */
  static async open(address?: string): Promise<NotifySocket> {
    const dir = mkdtempSync(join(tmpdir(), 'virtbus-notify-'));
    chmodSync(dir, 0o755);
    const path = address ?? join(dir, 'notify.sock');
    const child = spawn('python3', ['-c', LISTENER, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    const sock = new NotifySocket(path, dir, child);
    child.stderr!.on('data', (b) => (sock.stderr += b));
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      child.on('error', (e) => reject(new Error(`cannot run python3 for the notify socket: ${e.message}`)));
      child.on('exit', (code) => reject(new Error(`notify socket listener exited with ${code}: ${sock.stderr}`)));
      child.stdout!.on('data', (b) => {
        buf += b;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const rec = JSON.parse(buf.slice(0, i));
          buf = buf.slice(i + 1);
          if (rec.listening) resolve();
          else
            sock.messages.push({
              t: Date.now(),
              mono: rec.mono,
              pid: rec.pid,
              uid: rec.uid,
              text: rec.msg,
              fields: parseFields(rec.msg),
            });
        }
      });
    });
    return sock;
  }

  /** Waits for a message with this field (e.g. READY=1) after `after`; throws saying what came instead. */
  async waitFor(field: string, value: string, timeoutMs: number, after = 0): Promise<NotifyMessage> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const m = this.messages.find((x) => x.t >= after && x.fields[field] === value);
      if (m) return m;
      if (Date.now() > end)
        throw new Error(
          `no ${field}=${value} on NOTIFY_SOCKET within ${timeoutMs} ms; got: ${JSON.stringify(this.messages)}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The messages whose whole text is `text` (all of them without). */
  texts(text?: string): NotifyMessage[] {
    return text === undefined ? this.messages : this.messages.filter((m) => m.text === text);
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const gone = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGKILL');
      await gone;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function parseFields(msg: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of msg.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}
