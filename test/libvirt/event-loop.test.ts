// The addon's own libvirt event loop (native/src/event_loop.cc) against the
// lab's real libvirtd: a remote call does not wake the loop's thread (with
// libvirt's default loop every call did, several times), the keepalive timer
// still fires when due, and watches still deliver (events, a daemon that
// stopped answering).
import { createServer, connect, type Server, type Socket } from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import { Connection, type LibvirtEvent } from '../../src/libvirt';
import { cleanupAll } from '../helpers/cleanup';
import { EventLog } from '../helpers/events';
import { NODE1_URI, NODE2_URI, guestXml, labUniq, openNode, removeDomain } from '../helpers/lab';

/** The loop's thread, by the name it gives itself. */
function loopThread(): string {
  const tid = readdirSync('/proc/self/task').find(
    (t) => readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim() === 'virtbus-events',
  );
  if (!tid) throw new Error('no thread named virtbus-events: the addon did not start its event loop');
  return tid;
}

/** Times the thread was switched in after sleeping or being preempted. */
function wakeUps(tid: string): number {
  const status = readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
  const n = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)![1]);
  return n('voluntary_ctxt_switches') + n('nonvoluntary_ctxt_switches');
}

describe('the event loop on node 1 (qemu:///system)', () => {
  let conn: Connection;
  const name = labUniq('evloop');

  beforeAll(async () => {
    conn = await openNode(NODE1_URI); // keepalive on, as the agent opens it
  });
  afterAll(() =>
    cleanupAll([
      ['remove the domain', () => removeDomain(conn, name)],
      ['close node 1', () => conn?.close()],
    ]),
  );

  test('300 remote calls wake its thread fewer than 30 times (the default loop: several per call)', async () => {
    const tid = loopThread();
    await conn.hostname(); // warm
    const before = wakeUps(tid);
    for (let i = 0; i < 300; i++) await conn.hostname();
    const woken = wakeUps(tid) - before;
    expect(woken).toBeLessThan(30);
  });

  test('lifecycle events still arrive through its watch', async () => {
    const log = new EventLog<LibvirtEvent>(conn);
    await conn.subscribeEvents();
    const from = log.mark();
    const dom = await conn.defineDomain(guestXml(name));
    await dom.undefine();
    for (const event of ['defined', 'undefined'])
      await log.waitFor(
        (e) => e.type === 'lifecycle' && e.domain.name === name && e.event === event,
        `lifecycle ${event} of ${name}`,
        10_000,
        from,
      );
  });
});

describe('keepalive through the loop: node 2 behind a proxy that stops forwarding', () => {
  let server: Server | undefined;
  const sockets: Socket[] = [];
  let frozen = false;
  let conn: Connection | undefined;

  afterAll(() =>
    cleanupAll([
      ['close the connection', () => conn?.close()],
      ['close the proxy', () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))],
      ['drop its sockets', () => sockets.forEach((s) => s.destroy())],
    ]),
  );

  test("the connection closes with reason 'keepalive' within seconds of the daemon going silent", async () => {
    const target = new URL(NODE2_URI.replace(/^qemu\+tcp:/, 'http:'));
    const targetPort = Number(target.port || 16509);
    server = createServer((client) => {
      const up = connect(targetPort, target.hostname);
      sockets.push(client, up);
      client.on('data', (d) => frozen || up.write(d));
      up.on('data', (d) => frozen || client.write(d));
      for (const [a, b] of [
        [client, up],
        [up, client],
      ]) {
        a.on('error', () => undefined);
        a.on('close', () => b.destroy());
      }
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const uri = `qemu+tcp://127.0.0.1:${port}/system`;
    conn = await Connection.open(uri, { keepaliveIntervalS: 1, keepaliveCount: 1 }).catch((e) => {
      throw new Error(`lab node 2 not reachable through the proxy (${e}); start the lab: bash deploy/lab/lab.sh up`);
    });
    expect(await conn.hostname()).toBeTruthy();

    const closed = new Promise<{ reason: string; afterMs: number }>((resolve) => {
      const t0 = Date.now();
      conn!.once('close', ({ reason }) => resolve({ reason, afterMs: Date.now() - t0 }));
    });
    frozen = true;
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('no close within 15 s: the keepalive timer did not fire')), 15_000).unref(),
    );
    const { reason, afterMs } = await Promise.race([closed, timeout]);
    expect(reason).toBe('keepalive');
    // 1 s without a message, a ping, 1 s without its answer (libvirt counts from its last message)
    expect(afterMs).toBeLessThan(10_000);
  });
});
