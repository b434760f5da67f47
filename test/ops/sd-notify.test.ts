// SystemdNotifier against a real AF_UNIX datagram socket (test/helpers/
// notify-socket.ts: bound by a python3 child, since Node cannot bind one).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { native } from '../../src/libvirt/binding';
import { SystemdNotifier } from '../../src/ops/sd-notify';
import { eventually } from '../helpers/events';
import { cleanupAfterEach } from '../helpers/cleanup';
import { NotifySocket } from '../helpers/notify-socket';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('SystemdNotifier', () => {
  const defer = cleanupAfterEach();

  /** A fresh socket path in its own directory, removed after the test. */
  function socketPath(): string {
    const dir = mkdtempSync(join(tmpdir(), 'vb-sdnotify-'));
    defer('remove the socket directory', () => rmSync(dir, { recursive: true, force: true }));
    return join(dir, 'notify.sock');
  }
  async function receiver(address: string): Promise<NotifySocket> {
    const r = await NotifySocket.open(address);
    defer('stop the receiver', () => r.close());
    return r;
  }
  function notifier(env: NodeJS.ProcessEnv, errors: Error[] = []): SystemdNotifier {
    const n = new SystemdNotifier({ env, onError: (e) => errors.push(e) });
    defer('stop the notifier', () => n.stop());
    return n;
  }

  test('READY=1 with STATUS, STATUS alone, STOPPING=1 over a socket path', async () => {
    const path = socketPath();
    const r = await receiver(path);
    const errors: Error[] = [];
    const n = notifier({ NOTIFY_SOCKET: path }, errors);
    expect(n.enabled).toBe(true);
    expect(n.watchdogEnabled).toBe(false);

    expect(n.ready('connected to libvirt\nand the bus')).toBe(true);
    expect(n.status('3 commands in flight')).toBe(true);
    expect(n.stopping()).toBe(true);
    await eventually(async () => r.messages.length === 3, 'three datagrams', 5000, 20);
    expect(r.messages.map((d) => d.text)).toEqual([
      'READY=1\nSTATUS=connected to libvirt and the bus',
      'STATUS=3 commands in flight',
      'STOPPING=1',
    ]);
    expect(errors).toEqual([]);
  });

  test('an abstract socket (@name)', async () => {
    const address = `@vb-sdnotify-${process.pid}-${Date.now().toString(36)}`;
    const r = await receiver(address);
    const n = notifier({ NOTIFY_SOCKET: address });
    expect(n.ready()).toBe(true);
    await eventually(async () => r.messages.length === 1, 'READY=1', 5000, 20);
    expect(r.messages[0]!.text).toBe('READY=1');
  });

  test('WATCHDOG=1 every WATCHDOG_USEC/2 while healthy, none while not, none after STOPPING=1', async () => {
    const path = socketPath();
    const r = await receiver(path);
    const errors: Error[] = [];
    const n = notifier({ NOTIFY_SOCKET: path, WATCHDOG_USEC: '200000', WATCHDOG_PID: String(process.pid) }, errors);
    expect(n.watchdogUsec).toBe(200000);

    let healthy = true;
    let checks = 0;
    let sent = 0; // a healthy check is exactly one WATCHDOG=1
    expect(
      n.startWatchdog(() => {
        checks++;
        if (healthy) sent++;
        return healthy;
      }),
    ).toBe(true);

    await sleep(1000);
    const healthyRun = r.texts('WATCHDOG=1');
    // one at once, then one per 100 ms
    expect(healthyRun.length).toBeGreaterThanOrEqual(7);
    expect(healthyRun.length).toBeLessThanOrEqual(12);
    const gaps = healthyRun.slice(1).map((d, i) => (d.mono - healthyRun[i]!.mono) * 1000);
    expect(median(gaps)).toBeGreaterThanOrEqual(80);
    expect(median(gaps)).toBeLessThanOrEqual(150);

    healthy = false;
    const checksAtFlip = checks;
    await sleep(600);
    expect(checks - checksAtFlip).toBeGreaterThanOrEqual(4); // still checking…
    await eventually(async () => r.texts('WATCHDOG=1').length === sent, 'every sent WATCHDOG=1', 2000, 20);
    const unhealthyEnd = r.texts('WATCHDOG=1').length;
    await sleep(300);
    expect(r.texts('WATCHDOG=1').length).toBe(unhealthyEnd); // …but sending nothing

    healthy = true;
    await eventually(
      async () => r.texts('WATCHDOG=1').length >= unhealthyEnd + 2,
      'WATCHDOG=1 again once healthy',
      2000,
      20,
    );

    expect(n.stopping('shutting down')).toBe(true);
    const checksAtStop = checks;
    await sleep(400);
    expect(checks).toBe(checksAtStop);
    await eventually(async () => r.texts('WATCHDOG=1').length === sent, 'every sent WATCHDOG=1', 2000, 20);
    expect(r.messages.at(-1)!.text).toBe('STOPPING=1\nSTATUS=shutting down');
    expect(r.texts().filter((d) => d.text !== 'WATCHDOG=1')).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  test('a health check that throws counts as unhealthy and is reported', async () => {
    const path = socketPath();
    const r = await receiver(path);
    const errors: Error[] = [];
    const n = notifier({ NOTIFY_SOCKET: path, WATCHDOG_USEC: '100000' }, errors);
    n.startWatchdog(() => {
      throw new Error('broker state unknown');
    });
    await sleep(300);
    n.stop();
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(errors[0]!.message).toBe('broker state unknown');
    expect(n.ready()).toBe(true);
    await eventually(async () => r.messages.length === 1, 'READY=1', 5000, 20);
    expect(r.texts('WATCHDOG=1')).toEqual([]);
  });

  test('WATCHDOG_PID of another process: the watchdog is not ours to feed', async () => {
    const path = socketPath();
    const r = await receiver(path);
    const n = notifier({ NOTIFY_SOCKET: path, WATCHDOG_USEC: '100000', WATCHDOG_PID: String(process.pid + 1) });
    expect(n.watchdogEnabled).toBe(false);
    expect(n.startWatchdog(() => true)).toBe(false);
    expect(n.ready()).toBe(true);
    await sleep(300);
    expect(r.messages.map((d) => d.text)).toEqual(['READY=1']);
  });

  test('no NOTIFY_SOCKET: every call is a no-op', async () => {
    const path = socketPath();
    const r = await receiver(path);
    const errors: Error[] = [];
    const n = notifier({ WATCHDOG_USEC: '100000', WATCHDOG_PID: String(process.pid) }, errors);
    expect(n.enabled).toBe(false);
    expect(n.watchdogEnabled).toBe(false);
    expect(n.ready('up')).toBe(false);
    expect(n.status('x')).toBe(false);
    expect(n.startWatchdog(() => true)).toBe(false);
    expect(n.stopping()).toBe(false);
    n.stop();
    await sleep(300);
    expect(r.messages).toEqual([]);
    expect(errors).toEqual([]);
  });

  test('a socket nobody listens on: reported to onError, never thrown', () => {
    const errors: Error[] = [];
    const n = notifier({ NOTIFY_SOCKET: join(socketPath(), '..', 'nobody.sock') }, errors);
    expect(n.ready()).toBe(false);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'ENOENT', syscall: 'sendto' });

    const bad = notifier({ NOTIFY_SOCKET: 'vsock:2:1234' }, errors);
    expect(bad.enabled).toBe(false);
    expect(errors[1]!.message).toContain('vsock:2:1234');
  });

  test('notifySocketSend itself: errno as a Node system error, bad addresses as TypeError', () => {
    const dir = join(socketPath(), '..');
    expect(() => native.notifySocketSend(join(dir, 'none.sock'), 'READY=1')).toThrow(
      expect.objectContaining({ code: 'ENOENT', errno: -2, syscall: 'sendto' }) as Error,
    );
    // a directory is no socket
    expect(() => native.notifySocketSend(dir, 'READY=1')).toThrow(
      expect.objectContaining({ code: 'ECONNREFUSED' }) as Error,
    );
    // (the addon's TypeError is the main realm's, not jest's: compare by name)
    const typeError = (message: string) => expect.objectContaining({ name: 'TypeError', message }) as Error;
    expect(() => native.notifySocketSend('', 'x')).toThrow(typeError('argument 0 must be a socket path'));
    expect(() => native.notifySocketSend('@', 'x')).toThrow(
      typeError("argument 0 must name an abstract socket after '@'"),
    );
    expect(() => native.notifySocketSend(`/${'x'.repeat(120)}`, 'x')).toThrow(
      typeError('argument 0 is longer than a unix socket address allows'),
    );
    expect(() => native.notifySocketSend(123 as unknown as string, 'x')).toThrow(
      typeError('argument 0 must be a string'),
    );
  });
});
