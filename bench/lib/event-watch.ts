// A plain amqplib consumer of lifecycle events: an exclusive queue bound to
// an events exchange, recording for each event when it arrived and what it
// says (domain, event, seq, at).
import amqp, { type ChannelModel } from 'amqplib';
import type { Cleanup } from './cleanup';
import { sleep } from './proc';

export interface SeenEvent {
  /** epoch ms (fractional) when the consumer got it */
  recvAt: number;
  /** epoch ms of data.at: when libvirt reported it (the agent) / the stand-in handled the command */
  at: number;
  domain: string;
  name: string;
  event: string;
  seq: number;
  phase: string;
}

interface EventBody {
  data?: { domain?: { uuid?: string; name?: string }; event?: string; seq?: number; at?: string };
}

export const nowMs = () => performance.timeOrigin + performance.now();

export class EventWatch {
  readonly events: SeenEvent[] = [];
  unreadable = 0;
  phase = '';

  private constructor(private readonly conn: ChannelModel) {}

  static async open(url: string, exchange: string, bindingKey: string, cleanup: Cleanup): Promise<EventWatch> {
    const conn = await amqp.connect(url, { noDelay: true });
    conn.on('error', () => undefined);
    const w = new EventWatch(conn);
    cleanup.add(`close event consumer (${bindingKey})`, () => conn.close().catch(() => undefined));
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    await ch.bindQueue(queue, exchange, bindingKey);
    await ch.consume(
      queue,
      (m) => {
        if (!m) return;
        const recvAt = nowMs();
        try {
          const d = (JSON.parse(m.content.toString()) as EventBody).data ?? {};
          w.events.push({
            recvAt,
            at: Date.parse(d.at ?? ''),
            domain: d.domain?.uuid ?? '',
            name: d.domain?.name ?? '',
            event: d.event ?? '',
            seq: d.seq ?? NaN,
            phase: w.phase,
          });
        } catch {
          w.unreadable++;
        }
      },
      { noAck: true },
    );
    return w;
  }

  /** events of one phase */
  of(phase: string): SeenEvent[] {
    return this.events.filter((e) => e.phase === phase);
  }

  /** Resolves once `phase` has n events, or none came for idleMs. */
  async waitFor(phase: string, n: number, idleMs: number): Promise<void> {
    let last = this.events.length;
    let lastChange = Date.now();
    while (this.of(phase).length < n) {
      await sleep(20);
      if (this.events.length !== last) {
        last = this.events.length;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > idleMs) return;
    }
  }

  async close(): Promise<void> {
    await this.conn.close().catch(() => undefined);
  }
}
