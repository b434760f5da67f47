// amqplib's connection still keeps its socket where socketOf looks (a real
// RabbitMQ connection), and the connection works with its writes coalesced.
import amqp from 'amqplib';
import { coalesceWrites } from '../../../src/bus/coalesce';
import { socketOf } from '../../../src/bus/amqp/socket';
import { eventually } from '../../helpers/events';

const AMQP_URL = process.env.VIRTBUS_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

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
    await eventually(async () => got.length === 50, 'the 50 messages back', 5000, 5);
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
  } finally {
    await model.close();
  }
  expect(socketOf({})).toBeUndefined();
});
