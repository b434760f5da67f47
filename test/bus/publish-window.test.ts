// The publish window's bookkeeping with an in-memory connection (no broker
// behaviour is claimed here; the transports' own suites do that against
// RabbitMQ and Mosquitto): a message the broker drops the connection over
// is told apart from the others and dropped after MAX_LOSSES, and the rest go on.
import type { IClientPublishOptions, PacketCallback } from 'mqtt';
import { MAX_LOSSES, PublishDroppedError } from '../../src/bus/publish-window';
import { AckPublisher, type PublishTarget } from '../../src/bus/mqtt/publisher';

class FakeConnection implements PublishTarget {
  isLost = false;
  readonly brokerReceiveMaximum = 100;
  readonly sent: Array<{ topic: string; cb: PacketCallback }> = [];
  publish(topic: string, _payload: Buffer, _opts: IClientPublishOptions, cb: PacketCallback): void {
    this.sent.push({ topic, cb });
  }
  ackAll(): void {
    for (const s of this.sent.splice(0)) s.cb(undefined);
  }
}

const req = (topic: string) => ({ topic, payload: Buffer.from(topic), options: { qos: 1 as const } });

test(`a message alone on the wire at ${MAX_LOSSES} connection losses is dropped; the others are published`, async () => {
  const p = new AckPublisher({ maxInFlight: 10, maxQueued: 100, maxMessageBytes: 1 << 20 });
  const dropped: Error[] = [];
  p.onDropped = (e) => dropped.push(e);
  const outcome = (topic: string) =>
    p.publish(req(topic)).then(
      () => 'acked',
      (e: Error) => e,
    );
  const poison = outcome('poison'),
    b = outcome('b'),
    c = outcome('c');

  let conn = new FakeConnection();
  p.attach(conn);
  expect(conn.sent.map((s) => s.topic)).toEqual(['poison', 'b', 'c']);
  // The broker closes the connection: three were on the wire, nobody can be blamed
  // yet; then the poison goes out alone and is lost MAX_LOSSES times.
  for (let i = 0; i <= MAX_LOSSES; i++) {
    conn.isLost = true;
    p.detach(conn);
    conn = new FakeConnection();
    p.attach(conn);
    // after a loss the suspects go out one at a time, the oldest first
    expect(conn.sent.map((s) => s.topic)).toEqual(i < MAX_LOSSES ? ['poison'] : ['b']);
  }
  await expect(poison).resolves.toBeInstanceOf(PublishDroppedError);
  expect(dropped).toHaveLength(1);
  expect(p.dropped).toBe(1);
  conn.ackAll(); // b
  expect(conn.sent.map((s) => s.topic)).toEqual(['c']);
  conn.ackAll(); // c
  await expect(b).resolves.toBe('acked');
  await expect(c).resolves.toBe('acked');
  // no suspects left: the full window again
  const later = [outcome('d'), outcome('e')];
  expect(conn.sent.map((s) => s.topic)).toEqual(['d', 'e']);
  conn.ackAll();
  await expect(Promise.all(later)).resolves.toEqual(['acked', 'acked']);
});

test('a broker restart with one message in flight costs it one loss, not the message', async () => {
  const p = new AckPublisher({ maxInFlight: 10, maxQueued: 100, maxMessageBytes: 1 << 20 });
  const done = p.publish(req('only'));
  let conn = new FakeConnection();
  p.attach(conn);
  for (let i = 0; i < MAX_LOSSES - 1; i++) {
    conn.isLost = true;
    p.detach(conn);
    conn = new FakeConnection();
    p.attach(conn);
  }
  conn.ackAll();
  await expect(done).resolves.toBeUndefined();
  expect(p.dropped).toBe(0);
});
