// A call made while another hangs in libvirt starts promptly, from whatever
// phase of the event loop it was made in, and a turn's many calls all
// complete. The addon's pool batches its wake-ups: a call made while others
// are outstanding is only queued, and the binding's wrapper wakes workers
// for all of them on the next tick (src/libvirt/binding.ts). A call queued
// without that wake-up would wait for some unrelated event: without the
// wrapper's flush this fails (a call from a timer never settles).
//
// The hanging call is real: virConnectOpen through libvirt's remote driver
// to a TCP server that accepts and never answers the handshake.
import { once } from 'node:events';
import { stat } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { Connection } from '../../src/libvirt';

let silent: Server;
const peers: Socket[] = [];
let conn: Connection;
let hanging: Promise<unknown> | undefined;
let hangingSettled = false;

beforeAll(async () => {
  silent = createServer((s) => peers.push(s));
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  conn = await Connection.open('test:///default');
});

afterAll(async () => {
  // closing the server's side ends the hanging open (it fails)
  for (const p of peers.splice(0)) p.destroy();
  await hanging?.catch(() => undefined);
  await new Promise((r) => silent.close(r));
  await conn?.close();
});

const info = () => conn.domain('test').then((d) => d.info());

/** Resolves with the call's result, or fails if it has not settled within ms (nothing else happens meanwhile). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms);
    }),
  ]);
}

test('calls made from every phase of the loop start while another call hangs in libvirt', async () => {
  const { port } = silent.address() as { port: number };
  hanging = Connection.open(`test+tcp://127.0.0.1:${port}/default`, { keepaliveIntervalS: 0 }).finally(() => {
    hangingSettled = true;
  });
  hanging.catch(() => undefined);
  await new Promise((r) => setTimeout(r, 300));
  expect(peers.length).toBe(1); // libvirt connected
  expect(hangingSettled).toBe(false); // and waits for an answer that never comes

  // one phase at a time, each call alone in its turn: nothing but the pool's own wake-up can start it
  const phases: Record<string, (run: () => void) => void> = {
    timer: (run) => setTimeout(run, 1),
    immediate: (run) => setImmediate(run),
    'next tick': (run) => process.nextTick(run),
    microtask: (run) => queueMicrotask(run),
    'I/O callback': (run) => stat(__filename, () => run()),
    'close callback': (run) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => s.close(() => run()));
    },
  };
  const took: Record<string, number> = {};
  for (const [phase, schedule] of Object.entries(phases)) {
    const t0 = performance.now();
    const result = await within(
      new Promise<unknown>((resolve, reject) => schedule(() => info().then(resolve, reject))),
      2000,
      `a call made from a ${phase}`,
    );
    expect(result).toMatchObject({ state: 'running' });
    took[phase] = performance.now() - t0;
  }

  // a call of the test driver takes microseconds; one left waiting would
  // start only with the next unrelated event (a timer, some I/O)
  for (const [phase, ms] of Object.entries(took))
    expect(`${phase}: ${ms < 250 ? 'prompt' : `${ms.toFixed(0)} ms`}`).toBe(`${phase}: prompt`);

  // many in one turn, several turns in a row
  for (let turn = 0; turn < 5; turn++) {
    const all = await within(Promise.all(Array.from({ length: 50 }, info)), 2000, `50 calls of turn ${turn}`);
    expect(all).toHaveLength(50);
  }
  expect(hangingSettled).toBe(false); // all of that while the open still hangs
});

test('calls of one turn on an idle pool all complete, the first at once', async () => {
  const t0 = performance.now();
  const first = info().then(() => performance.now() - t0);
  const rest = Array.from({ length: 200 }, info);
  expect(await within(first, 2000, 'the first call')).toBeLessThan(1000);
  expect(await within(Promise.all(rest), 5000, '200 calls')).toHaveLength(200);
});
