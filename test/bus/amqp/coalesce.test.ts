// Frames written in one turn of the event loop leave the socket in one
// writev, in order; back-pressure still works; amqplib's connection still
// keeps its socket where socketOf looks (a real RabbitMQ connection).
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import amqp from 'amqplib';
import { coalesceWrites, socketOf } from '../../../src/bus/amqp/coalesce';

const AMQP_URL = process.env.VIRTBUS_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

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

test("socketOf finds amqplib's socket on a real connection, and the connection works with coalesced writes", async () => {
  const model = await amqp.connect(AMQP_URL).catch((e: Error) => {
    throw new Error(`RabbitMQ is needed at ${AMQP_URL} (start it: bash scripts/services.sh): ${e.message}`);
  });
  try {
    const socket = socketOf(model);
    expect(socket).toBeDefined();
    coalesceWrites(socket!);
    const ch = await model.createConfirmChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    for (let i = 0; i < 50; i++) ch.sendToQueue(queue, Buffer.from(String(i)));
    await ch.waitForConfirms();
    const got: string[] = [];
    await ch.consume(queue, (m) => m && got.push(m.content.toString()), { noAck: true });
    await until(() => got.length === 50);
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
  } finally {
    await model.close();
  }
  expect(socketOf({})).toBeUndefined();
});
