// A libvirt call that hangs must not hold up other calls, events or the JS
// thread: the guest's QEMU is SIGSTOPped, so suspending it blocks in libvirt
// until the process is continued.
import { cpus } from 'node:os';
import { Connection, libvirtThreadPoolSize, type LibvirtEvent } from '../../src/libvirt';
import { EventLog } from '../helpers/events';
import { cleanupAll } from '../helpers/cleanup';
import {
  NODE1_URI,
  guestXml,
  labUniq,
  openNode,
  qemuPid,
  removeDomain,
  removeGuest,
  waitGuestReady,
} from '../helpers/lab';

describe('concurrency with a blocked call', () => {
  let conn: Connection;
  let log: EventLog<LibvirtEvent>;
  const name = labUniq('hang');
  const other = labUniq('evt');
  const third = labUniq('hang2');
  let pid = 0;
  let pid3 = 0;

  beforeAll(async () => {
    conn = await openNode(NODE1_URI);
    log = new EventLog<LibvirtEvent>(conn);
    await conn.subscribeEvents();
  });

  afterAll(() =>
    cleanupAll([
      [
        'continue QEMU',
        () => {
          if (pid) process.kill(pid, 'SIGCONT');
        },
      ],
      ['remove the guest', () => removeGuest(name, { node1: conn })],
      ['remove the second domain', () => removeDomain(conn, other)],
      ['close node 1', () => conn?.close()],
    ]),
  );

  test('64 calls and events proceed while one call is stuck in libvirt', async () => {
    const dom = await conn.createDomain(guestXml(name));
    await waitGuestReady(name);
    pid = qemuPid(name);
    process.kill(pid, 'SIGSTOP');

    let blockedSettled = false;
    const blocked = dom.suspend().finally(() => {
      blockedSettled = true;
    });
    await new Promise((r) => setTimeout(r, 1000));
    expect(blockedSettled).toBe(false); // honestly stuck: QEMU does not answer its monitor

    let ticks = 0;
    const timer = setInterval(() => {
      ticks++;
    }, 10);
    const started = Date.now();
    const calls = Array.from({ length: 64 }, (_, i) => {
      switch (i % 4) {
        case 0:
          return conn.hostname();
        case 1:
          return conn.nodeInfo();
        case 2:
          return conn.listDomains();
        default:
          return conn.freeMemory();
      }
    });
    const results = await Promise.all(calls);

    const elapsed = Date.now() - started;
    expect(results).toHaveLength(64);
    expect(results.every((r) => r !== undefined)).toBe(true);

    // events keep flowing: define and undefine another domain meanwhile
    const from = log.mark();
    const d2 = await conn.defineDomain(guestXml(other));
    await d2.undefine();
    await log.waitFor(
      (e) => e.type === 'lifecycle' && e.domain.name === other && e.event === 'undefined',
      'undefined event while blocked',
      10000,
      from,
    );
    clearInterval(timer);

    expect(blockedSettled).toBe(false);
    // the JS thread kept running its timers while native threads waited
    expect(ticks).toBeGreaterThan(Math.min(elapsed, 1000) / 10 / 4);
    expect(libvirtThreadPoolSize()).toBeGreaterThan(1);

    process.kill(pid, 'SIGCONT');
    pid = 0;
    await blocked;
    expect((await dom.state()).state).toBe('paused');
    await dom.destroy();
  });

  // The pool keeps about one worker per core awake; beyond that an overseer
  // adds a worker only when queued calls have nobody to take them. Here
  // every such worker is stuck: one suspend inside the frozen QEMU, and as
  // many resumes as there are cores, each waiting for the suspend's job.
  test('calls proceed while more calls than the pool keeps awake are stuck', async () => {
    const dom = await conn.createDomain(guestXml(third));
    await waitGuestReady(third);
    pid3 = qemuPid(third);
    process.kill(pid3, 'SIGSTOP');

    const stuck = [dom.suspend(), ...Array.from({ length: cpus().length }, () => dom.resume())];
    let settled = 0;
    for (const p of stuck)
      void p.then(
        () => settled++,
        () => settled++,
      );
    await new Promise((r) => setTimeout(r, 1000));
    expect(settled).toBe(0); // every one of them holds a worker

    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 16 }, () => conn.hostname()));
    expect(results.every((h) => typeof h === 'string' && h.length > 0)).toBe(true);
    // each new worker comes within a few milliseconds of the calls stopping; far below libvirt's 30 s job wait
    expect(Date.now() - started).toBeLessThan(5000);
    expect(settled).toBe(0);

    process.kill(pid3, 'SIGCONT');
    pid3 = 0;
    const outcomes = await Promise.allSettled(stuck);
    expect(outcomes[0].status).toBe('fulfilled'); // the suspend went through once QEMU answered
    await dom.destroy();
  });
});
