// The AMQP baseline: the cheapest responder that does the broker work the
// agent does for a command — consume from a quorum queue (prefetch N, manual
// ack), publish the reply on a confirm channel, ack once the reply is
// confirmed — with no parsing, validation or libvirt. Runs in a child process
// (responder.ts) like the agent does.
import amqp from 'amqplib';

export interface AmqpEchoOptions {
  url: string;
  /** a quorum queue, declared here (the parent deletes it) */
  queue: string;
  prefetch: number;
}

export const QUORUM = { durable: true, arguments: { 'x-queue-type': 'quorum' } };

export async function runAmqpEcho(o: AmqpEchoOptions): Promise<() => Promise<void>> {
  const conn = await amqp.connect(o.url, { noDelay: true });
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue(o.queue, QUORUM);
  await ch.prefetch(o.prefetch);
  await ch.consume(
    o.queue,
    (m) => {
      if (!m) return;
      ch.publish(
        '',
        m.properties.replyTo as string,
        m.content,
        { correlationId: m.properties.correlationId as string, contentType: m.properties.contentType as string },
        (err) => (err ? ch.nack(m) : ch.ack(m)),
      );
    },
    { noAck: false },
  );
  return async () => {
    await conn.close().catch(() => undefined);
  };
}
