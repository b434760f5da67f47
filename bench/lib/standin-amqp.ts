// The events baseline: a bare amqplib stand-in for the agent's broker work
// per state-changing command — consume the command from a quorum queue
// (prefetch N), publish a persistent lifecycle event to a topic exchange and
// the reply, both on a confirm channel, ack once both are confirmed.
import amqp from 'amqplib';
import { CE_JSON } from '../../src/contract/envelope';

export interface StandinOptions {
  url: string;
  /** quorum queue holding the commands (declared and filled by the parent) */
  queue: string;
  /** topic exchange for the events (declared by the parent) */
  exchange: string;
  prefetch: number;
}

export async function runAmqpStandin(o: StandinOptions, onConsuming: () => void): Promise<() => Promise<void>> {
  const conn = await amqp.connect(o.url, { noDelay: true });
  const ch = await conn.createConfirmChannel();
  await ch.prefetch(o.prefetch);
  const seqs = new Map<string, number>();
  onConsuming();
  await ch.consume(
    o.queue,
    (m) => {
      if (!m) return;
      const cmd = JSON.parse(m.content.toString()) as { id: string; type: string; data: { domain: string } };
      const name = cmd.data.domain;
      const seq = (seqs.get(name) ?? 0) + 1;
      seqs.set(name, seq);
      const at = new Date().toISOString();
      const event = cmd.type.endsWith('suspend') ? 'suspended' : 'resumed';
      const body = Buffer.from(
        JSON.stringify({
          specversion: '1.0',
          id: `${cmd.id}-e`,
          source: 'virtbus://standin',
          type: 'virtbus.event.domain.lifecycle',
          subject: name,
          time: at,
          datacontenttype: 'application/json',
          data: { node: 'standin', domain: { uuid: name, name }, event, detail: 'paused', seq, state: 'x', at },
        }),
      );
      const reply = Buffer.from(
        JSON.stringify({
          specversion: '1.0',
          id: `${cmd.id}-r`,
          source: 'virtbus://standin',
          type: 'virtbus.reply',
          subject: cmd.type,
          time: at,
          data: { ok: true, result: { state: event === 'suspended' ? 'paused' : 'running' } },
        }),
      );
      let pending = 2;
      let failed = false;
      const settle = (err: unknown) => {
        failed ||= !!err;
        if (--pending > 0) return;
        if (failed) ch.nack(m);
        else ch.ack(m);
      };
      ch.publish(
        o.exchange,
        `v1.standin.domain.${name}.lifecycle`,
        body,
        { persistent: true, contentType: CE_JSON, messageId: `${cmd.id}-e` },
        settle,
      );
      ch.publish(
        '',
        m.properties.replyTo as string,
        reply,
        { correlationId: m.properties.correlationId as string, contentType: CE_JSON },
        settle,
      );
    },
    { noAck: false },
  );
  return async () => {
    await conn.close().catch(() => undefined);
  };
}
