// The confirm publisher refuses what an AMQP short string cannot hold (255
// bytes of UTF-8) before it reaches the broker, and publishes the rest: at
// the limit with multi-byte characters, where a string's length in UTF-16
// units and its size in bytes differ most.
import amqp from 'amqplib';
import { ConfirmPublisher } from '../../../src/bus/amqp/publisher';

const AMQP_URL = process.env.VIRTBUS_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

test('short strings: 255 bytes of 3-byte characters go out and are confirmed, 258 are refused before the broker', async () => {
  const model = await amqp.connect(AMQP_URL).catch((e: Error) => {
    throw new Error(`RabbitMQ is needed at ${AMQP_URL} (start it: bash scripts/services.sh): ${e.message}`);
  });
  const publisher = new ConfirmPublisher({ maxInFlight: 8, maxQueued: 8, maxMessageBytes: 1024 });
  try {
    const ch = await model.createConfirmChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    publisher.attach(ch, model, (err) => {
      throw err;
    });
    const fits = '€'.repeat(85); // 85 units, 255 bytes
    const over = '€'.repeat(86); // 86 units, 258 bytes
    const body = Buffer.from('x');
    await publisher.publish({ exchange: '', routingKey: queue, body, options: { correlationId: fits } });
    await expect(
      publisher.publish({ exchange: '', routingKey: queue, body, options: { correlationId: over } }),
    ).rejects.toThrow('AMQP property correlationId longer than 255 bytes');
    await expect(publisher.publish({ exchange: '', routingKey: over, body, options: {} })).rejects.toThrow(
      'routing key longer than 255 bytes',
    );
    // 200 ASCII units are 200 bytes: long in units, within the limit in bytes
    await publisher.publish({ exchange: '', routingKey: queue, body, options: { messageId: 'a'.repeat(200) } });
    const got = await ch.get(queue, { noAck: true });
    expect(got && got.properties.correlationId).toBe(fits);
    const second = await ch.get(queue, { noAck: true });
    expect(second && second.properties.messageId).toBe('a'.repeat(200));
    // the refused ones never reached the queue, and the channel survived them
    expect(await ch.get(queue, { noAck: true })).toBe(false);
  } finally {
    publisher.close(new Error('test over'));
    await model.close().catch(() => undefined);
  }
});
