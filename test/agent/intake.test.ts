// The intake over an in-memory transport: every delivery is settled exactly
// once whatever happens, and nothing a caller sends becomes an unpublishable
// answer. The real transports' limits are exercised end to end against
// RabbitMQ and Mosquitto by test/system/fuzz.test.ts; here each failure class
// of issue 9 is one small case.
import { CommandIntake } from '../../src/agent/intake';
import { replyTopicProblem } from '../../src/contract/addresses';
import {
  TransportClosedError,
  type Delivery,
  type InboundMessage,
  type OutboundEvent,
  type OutboundReply,
  type Transport,
  type TransportEvents,
} from '../../src/bus/transport';
import { CommandDispatcher } from '../../src/commands/dispatcher';
import { CE_JSON, CE_PROTOBUF } from '../../src/contract/envelope';
import { EventPublisher } from '../../src/events/publisher';
import { jsonCodec } from '../../src/codec/codec';
import { createLogger } from '../../src/log';
import { TypedEmitter } from '../../src/typed-emitter';

class MemoryTransport extends TypedEmitter<TransportEvents> implements Transport {
  readonly replies: OutboundReply[] = [];
  readonly events: OutboundEvent[] = [];
  publishDropped = 0;
  /** makes publishReply fail with this */
  failReplies?: Error;
  constructor(readonly kind: 'amqp' | 'mqtt') {
    super();
  }
  get maxCorrelationIdBytes(): number {
    return this.kind === 'amqp' ? 255 : 65535;
  }
  replyAddressProblem(to: string): string | undefined {
    return this.kind === 'mqtt' ? replyTopicProblem(to) : to === '' ? 'reply_to is empty' : undefined;
  }
  async start(): Promise<void> {}
  async stopConsuming(): Promise<void> {}
  async publishEvent(e: OutboundEvent): Promise<void> {
    this.events.push(e);
  }
  async publishReply(r: OutboundReply): Promise<void> {
    if (this.failReplies) throw this.failReplies;
    this.replies.push(r);
  }
  async close(): Promise<void> {}
  renew(): boolean {
    return false;
  }
  async lookupPresence(): Promise<undefined> {
    return undefined;
  }
}

interface Settled {
  ack: number;
  reject: number;
}

function delivery(
  m: Partial<InboundMessage> & { body: Buffer },
  deadLetters: boolean,
): { d: Delivery; settled: Settled } {
  const settled: Settled = { ack: 0, reject: 0 };
  return {
    settled,
    d: {
      message: { headers: {}, redelivered: false, origin: 'node', ...m },
      ack: () => {
        settled.ack++;
      },
      reject: () => {
        settled.reject++;
      },
      deadLetters,
    },
  };
}

function setup(kind: 'amqp' | 'mqtt', o: { maxOutgoingBytes?: number } = {}) {
  const transport = new MemoryTransport(kind);
  const log = createLogger('silent');
  const publisher = new EventPublisher({
    node: 'n1',
    bootId: 'b',
    transport,
    codec: jsonCodec,
    connection: () => undefined,
    onError: () => undefined,
  });
  const dispatcher = new CommandDispatcher({
    connection: () => {
      throw new Error('no libvirt in this test');
    },
    agent: { node: 'n1', bootId: 'b', version: '0.0.0', status: () => ({}) },
  });
  const intake = new CommandIntake({
    node: 'n1',
    transport,
    dispatcher,
    publisher,
    log,
    maxMessageBytes: 1 << 20,
    ...o,
  });
  /** accepts one delivery and waits until the intake is done with it */
  const run = async (m: Partial<InboundMessage> & { body: Buffer }) => {
    const { d, settled } = delivery(m, kind === 'amqp');
    intake.accept(d);
    await intake.drain(5000);
    await publisher.flush();
    expect(settled.ack + settled.reject).toBeLessThanOrEqual(1);
    return settled;
  };
  return { transport, intake, run };
}

const cmd = (o: Record<string, unknown>) =>
  Buffer.from(
    JSON.stringify({ specversion: '1.0', id: 'c1', source: 'test', type: 'virtbus.cmd.agent.ping', data: {}, ...o }),
  );
const replyData = (r: OutboundReply) =>
  JSON.parse(r.body.toString()) as {
    subject?: string;
    data: { ok: boolean; result?: unknown; error?: { code: string; message: string } };
  };

describe('every delivery is settled exactly once', () => {
  test('AMQP, no reply_to, an id with dots: the completion event goes out, the delivery is acked', async () => {
    const { transport, run } = setup('amqp');
    const s = await run({ body: cmd({ id: 'no.reply.0' }), messageId: 'no.reply.0', correlationId: 'no.reply.0' });
    expect(s).toEqual({ ack: 1, reject: 0 });
    expect(transport.events).toHaveLength(1);
    expect(transport.events[0]).toMatchObject({ object: 'command', id: 'no.reply.0', event: 'completed' });
  });

  test('AMQP: a reply the broker refuses -> dead-lettered and counted', async () => {
    const { transport, intake, run } = setup('amqp');
    transport.failReplies = new Error('broker refused (basic.nack)');
    const s = await run({ body: cmd({}), replyTo: 'q', messageId: 'c1', correlationId: 'c1' });
    expect(s).toEqual({ ack: 0, reject: 1 });
    expect(intake.counters).toEqual({ unanswered: 1, deadLettered: 1, dropped: 0 });
  });

  test('MQTT: a reply the broker refuses -> acknowledged and dropped, counted', async () => {
    const { transport, intake, run } = setup('mqtt');
    transport.failReplies = new Error('MQTT publish refused: not authorized');
    const s = await run({ body: cmd({}), contentType: CE_JSON, replyTo: 'virtbus/reply/me/1' });
    expect(s).toEqual({ ack: 0, reject: 1 });
    expect(intake.counters).toEqual({ unanswered: 1, deadLettered: 0, dropped: 1 });
  });

  test('a transport closed while answering leaves the delivery to the broker (redelivery)', async () => {
    const { transport, intake, run } = setup('amqp');
    transport.failReplies = new TransportClosedError('amqp');
    const s = await run({ body: cmd({}), replyTo: 'q' });
    expect(s).toEqual({ ack: 0, reject: 0 });
    expect(intake.counters.unanswered).toBe(0);
  });
});

describe('nothing a caller sends makes an unpublishable answer', () => {
  test('a 0.9 MB unknown type: a small BAD_REQUEST without subject, nothing echoed', async () => {
    const { transport, run } = setup('amqp');
    const type = `virtbus.cmd.${'x'.repeat(900_000)}`;
    await run({ body: cmd({ type }), replyTo: 'q', messageId: 'c1' });
    const r = transport.replies[0];
    expect(r.body.length).toBeLessThan(1024);
    const env = replyData(r);
    expect(env.subject).toBeUndefined();
    expect(env.data.error).toMatchObject({
      code: 'BAD_REQUEST',
      message: 'command type is 900012 characters long (at most 256)',
    });
  });

  test('an unknown command of ordinary length: UNKNOWN_COMMAND, quoted and bounded', async () => {
    const { transport, run } = setup('amqp');
    await run({ body: cmd({ type: `virtbus.cmd.${'y'.repeat(200)}` }), replyTo: 'q' });
    const env = replyData(transport.replies[0]);
    expect(env.data.error!.code).toBe('UNKNOWN_COMMAND');
    expect(env.data.error!.message.length).toBeLessThan(100);
  });

  test.each([
    ['NUL', '\u0000'],
    ['TAB', '\t'],
    ['newline', '\n'],
  ])('a %s in the id or type is BAD_REQUEST', async (_n, c) => {
    const { transport, run } = setup('mqtt');
    await run({ body: cmd({ id: `a${c}b` }), contentType: CE_JSON, replyTo: 'virtbus/reply/me/1' });
    await run({
      body: cmd({ type: `virtbus.cmd.agent${c}ping` }),
      contentType: CE_JSON,
      replyTo: 'virtbus/reply/me/2',
    });
    expect(transport.replies.map((r) => replyData(r).data.error?.message)).toEqual([
      'command id contains a control character',
      'command type contains a control character',
    ]);
    // nothing of the bad value reaches a place with MQTT string rules
    expect(replyData(transport.replies[1]).subject).toBeUndefined();
  });

  test.each(['#', '+', 'a/+/b', '$SYS/x', 'a\u0000b'])(
    'MQTT Response Topic %j: not run; BAD_REQUEST as the completion event',
    async (topic) => {
      const { transport, run } = setup('mqtt');
      const s = await run({ body: cmd({ id: 'bad-topic' }), contentType: CE_JSON, replyTo: topic });
      expect(s).toEqual({ ack: 1, reject: 0 });
      expect(transport.replies).toHaveLength(0);
      const ev = JSON.parse(transport.events[0].body.toString());
      expect(ev.data).toMatchObject({ id: 'bad-topic', ok: false, error: { code: 'BAD_REQUEST' } });
      expect(ev.data.error.message).toMatch(/^unusable reply address/);
    },
  );

  test.each(['amqp', 'mqtt'] as const)(
    '%s: an empty reply address is a bad one: not run, BAD_REQUEST as the completion event',
    async (kind) => {
      const { transport, run } = setup(kind);
      await run({ body: cmd({ id: 'empty-reply' }), replyTo: '' });
      expect(transport.replies).toHaveLength(0);
      expect(JSON.parse(transport.events[0].body.toString()).data).toMatchObject({
        id: 'empty-reply',
        ok: false,
        error: { code: 'BAD_REQUEST' },
      });
    },
  );

  test('MQTT 5 Correlation Data that is not UTF-8 comes back byte for byte', async () => {
    const { transport, run } = setup('mqtt');
    const bytes = Buffer.from([0xff, 0xfe, 0xfd, 0x00, 0x80]);
    await run({
      body: cmd({}),
      contentType: CE_JSON,
      replyTo: 'virtbus/reply/me/1',
      correlationData: bytes,
      correlationId: bytes.toString('utf8'),
    });
    expect(transport.replies[0].correlationData).toEqual(bytes);
  });

  test('AMQP: an id of 128 × é and no correlation_id: BAD_REQUEST without correlation_id (AMQP cannot carry 256 bytes)', async () => {
    const { transport, run } = setup('amqp');
    const s = await run({ body: cmd({ id: 'é'.repeat(128) }), replyTo: 'q' });
    expect(s.ack).toBe(1);
    expect(transport.replies[0].correlationId).toBeUndefined();
    expect(replyData(transport.replies[0]).data.error!.message).toMatch(/correlation id longer than 255 bytes/);
  });

  test('a result larger than --max-outgoing-bytes becomes an error reply', async () => {
    const { transport, run } = setup('amqp', { maxOutgoingBytes: 200 });
    await run({ body: cmd({}), replyTo: 'q' });
    expect(replyData(transport.replies[0]).data.error).toMatchObject({ code: 'UNSUPPORTED' });
    expect(replyData(transport.replies[0]).data.error!.message).toMatch(
      /exceeds the outgoing message limit of 200 bytes/,
    );
  });

  test('content types compare as whole media types, case-insensitively', async () => {
    const { transport, run } = setup('amqp');
    await run({ body: cmd({}), replyTo: 'q', contentType: 'application/cloudevents+jsonx' });
    await run({ body: cmd({ id: 'c2' }), replyTo: 'q', contentType: 'Application/CloudEvents+JSON; charset=utf-8' });
    await run({ body: Buffer.from([0x0a, 0x02, 0x41]), replyTo: 'q', contentType: `${CE_PROTOBUF}` });
    const [x, ok, pb] = transport.replies.map((r) =>
      r.contentType === CE_JSON
        ? replyData(r).data
        : { ok: false, error: { code: 'BAD_REQUEST', message: 'protobuf' } },
    );
    expect(x.error!.message).toMatch(/^unsupported content type/);
    expect(ok.ok).toBe(true);
    expect(pb.ok).toBe(false);
  });
});
