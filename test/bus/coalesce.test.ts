// What is written until the next tick (or, 'turn', until the event loop's
// I/O callbacks ran) leaves the socket in one writev, in order; back-pressure
// still works.
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { coalesceWrites, corkable } from '../../src/bus/coalesce';

let server: Server;
let received: Buffer[] = [];
const sockets: Socket[] = [];

beforeEach(async () => {
  received = [];
  server = createServer((peer) => {
    sockets.push(peer);
    peer.on('data', (b) => received.push(b));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise((r) => server.close(r));
});

async function client(): Promise<Socket> {
  const { port } = server.address() as { port: number };
  const s = connect(port, '127.0.0.1');
  sockets.push(s);
  await once(s, 'connect');
  return s;
}

const until = async (cond: () => boolean) => {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
};

test('what is written in one turn goes out as one writev, in order; the next turn starts a new one', async () => {
  const s = await client();
  coalesceWrites(s);
  coalesceWrites(s); // a second call changes nothing
  const internals = s as unknown as { _writev: (...a: unknown[]) => void; _write: (...a: unknown[]) => void };
  const writev = jest.spyOn(internals, '_writev');
  const write = jest.spyOn(internals, '_write');

  s.write(Buffer.from('a'));
  s.write(Buffer.from('bb'));
  s.write('ccc');
  expect(writev).not.toHaveBeenCalled(); // held until the turn ends
  await new Promise((r) => process.nextTick(r));
  expect(writev).toHaveBeenCalledTimes(1);
  expect((writev.mock.calls[0][0] as unknown[]).length).toBe(3);

  await new Promise((r) => setImmediate(r));
  s.write(Buffer.from('d'));
  await new Promise((r) => process.nextTick(r));
  expect(writev.mock.calls.length + write.mock.calls.length).toBe(2);

  await until(() => Buffer.concat(received).length === 7);
  expect(Buffer.concat(received).toString()).toBe('abbcccd');
});

test('back-pressure is unchanged: write() says false past the high-water mark and drain follows', async () => {
  const s = await client();
  coalesceWrites(s);
  const big = Buffer.alloc(s.writableHighWaterMark + 1, 1);
  expect(s.write(Buffer.from('x'))).toBe(true);
  expect(s.write(big)).toBe(false);
  await once(s, 'drain');
  await until(() => Buffer.concat(received).length === big.length + 1);
});

test("'turn' holds writes of several callbacks of one turn (I/O callbacks, their ticks and promises) for one writev", async () => {
  const s = await client();
  coalesceWrites(s, 'turn');
  const internals = s as unknown as { _writev: (...a: unknown[]) => void; _write: (...a: unknown[]) => void };
  const writev = jest.spyOn(internals, '_writev');
  const write = jest.spyOn(internals, '_write');
  const written = () => writev.mock.calls.length + write.mock.calls.length;

  // three callbacks of the same poll phase, as three libvirt results are:
  // each writes from a tick and from a promise of its own
  await new Promise<void>((resolve) => {
    let left = 3;
    for (const part of ['a', 'b', 'c'])
      setTimeout(() => {
        process.nextTick(() => s.write(part));
        void Promise.resolve().then(() => s.write(part.toUpperCase()));
        if (--left === 0) setImmediate(resolve);
      }, 0);
  });
  expect(written()).toBe(1);
  expect((writev.mock.calls[0][0] as unknown[]).length).toBe(6);

  // the next turn starts a new one; nothing waits for I/O to come
  s.write('d');
  expect(written()).toBe(1);
  await new Promise((r) => setImmediate(r));
  expect(written()).toBe(2);
  await until(() => Buffer.concat(received).length === 7);
  expect(Buffer.concat(received).toString()).toBe('aAbBcCd'); // in the order written
});

test("'turn' does not hold a write while the loop waits: a lone write from a timer leaves without any other event", async () => {
  const s = await client();
  coalesceWrites(s, 'turn');
  await new Promise((r) => setTimeout(r, 20)); // the loop idles
  const t0 = process.hrtime.bigint();
  setTimeout(() => s.write('z'), 1);
  await until(() => Buffer.concat(received).toString() === 'z');
  expect(Number(process.hrtime.bigint() - t0) / 1e6).toBeLessThan(1000);
});

test('corkable: sockets yes, other things no', async () => {
  const s = await client();
  expect(corkable(s)).toBe(s);
  expect(corkable(undefined)).toBeUndefined();
  expect(corkable({ write() {} })).toBeUndefined();
});
