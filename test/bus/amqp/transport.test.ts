// AmqpTransport against a real RabbitMQ. A plain amqplib client plays the
// orchestrator / event consumer; rabbitmqctl plays the operator who kills
// connections. No mocks: every claim here is about broker behaviour.
import { EventEmitter, once } from 'node:events';
import * as net from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import * as amqp from 'amqplib';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import {
  AmqpTransport,
  TopologyMismatchError,
  TopologyMissingError,
  TransportClosedError,
  type AmqpTransportOptions,
} from '../../../src/bus/amqp';
import { firstUrlIndex } from '../../../src/endpoint';
import type { Delivery, TransportEvents } from '../../../src/bus/transport';
import { EventLog, eventually } from '../../helpers/events';

const run = promisify(execFile);
const URL = process.env.VIRTBUS_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const START_HINT = 'start RabbitMQ first: `rabbitmq-server -detached` (these tests also need rabbitmqctl on PATH)';

let admin: ChannelModel;
let adminCh: Channel;
const nodes: string[] = [];
const transports: AmqpTransport[] = [];
let seq = 0;

/** A node id no other test (or earlier run) uses; its queue is deleted in afterAll. */
function newNodeId(): string {
  // the time too: pids repeat (a fresh container starts them from the same numbers), queues of a crashed run stay
  const id = `t-amqp-${process.pid}-${Date.now().toString(36)}-${++seq}`;
  nodes.push(id);
  return id;
}

function newTransport(nodeId: string, o: Partial<AmqpTransportOptions> = {}): AmqpTransport {
  const t = new AmqpTransport({ endpoint: URL, nodeId, backoff: { initialMs: 50, maxMs: 500 }, ...o });
  transports.push(t);
  return t;
}

/** Records the transport's lifecycle events in order. */
function lifecycle(t: AmqpTransport): EventLog<{ name: keyof TransportEvents; args: unknown[] }> {
  const em = new EventEmitter();
  for (const name of ['connected', 'disconnected', 'connect-failed', 'warning'] as const) {
    t.on(name, (...args: unknown[]) => em.emit('event', { name, args }));
  }
  return new EventLog(em);
}

function deliveries(): { log: EventLog<Delivery>; onDelivery: (d: Delivery) => void } {
  const em = new EventEmitter();
  const log = new EventLog<Delivery>(em);
  return {
    log,
    onDelivery: (d) => {
      em.emit('event', d);
    },
  };
}

/** An exclusive client queue (optionally bound), consumed without acks. */
async function clientQueue(bind?: {
  exchange: string;
  key: string;
}): Promise<{ name: string; log: EventLog<ConsumeMessage> }> {
  const { queue } = await adminCh.assertQueue('', { exclusive: true, autoDelete: true });
  if (bind) await adminCh.bindQueue(queue, bind.exchange, bind.key);
  const em = new EventEmitter();
  const log = new EventLog<ConsumeMessage>(em);
  await adminCh.consume(
    queue,
    (m) => {
      if (m) em.emit('event', m);
    },
    { noAck: true },
  );
  return { name: queue, log };
}

function sendCommand(nodeId: string, props: amqp.Options.Publish, body = '{"type":"virtbus.cmd.agent.ping"}'): void {
  adminCh.publish('virtbus.commands', nodeId, Buffer.from(body), {
    contentType: 'application/cloudevents+json',
    ...props,
  });
}

async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await run('rabbitmqctl', ['-q', ...args]);
  return stdout;
}

/** Closes the agent's connection from the broker side, as an operator (or a broker restart) would. */
async function killConnection(nodeId: string): Promise<void> {
  const marker = `{"connection_name","virtbus-agent-${nodeId}"}`;
  const pid = await eventually(
    async () => {
      const line = (await rabbitmqctl('list_connections', '--no-table-headers', 'pid', 'client_properties'))
        .split('\n')
        .find((l) => l.includes(marker));
      return line?.split('\t')[0];
    },
    `the broker to list connection virtbus-agent-${nodeId}`,
    10000,
  );
  await rabbitmqctl('close_connection', pid, 'virtbus test: forced close');
}

/**
 * A TCP relay between the transport and RabbitMQ, to cut the network
 * without touching the broker other tests and agents share: stop() is an
 * outage (connections reset, new ones refused), freeze() a silent network
 * (sockets stay open, no byte moves) that only heartbeats can detect.
 */
class BrokerRelay {
  private server?: net.Server;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  port = 0;
  /** connections relayed so far */
  connections = 0;
  private frozen = false;
  /** clients whose broker side is gone while frozen: closed by stop() */
  private readonly orphans = new Set<net.Socket>();

  async start(): Promise<void> {
    const broker = new globalThis.URL(URL);
    this.server = net.createServer((client) => {
      const upstream = net.connect(Number(broker.port || 5672), broker.hostname);
      const pair: [net.Socket, net.Socket] = [client, upstream];
      this.connections++;
      this.pairs.add(pair);
      const end = () => {
        // frozen: a silent network. The broker's own heartbeat check may drop
        // its side first; that must not reach the client as a close.
        if (!this.frozen) client.destroy();
        else if (!client.destroyed) this.orphans.add(client);
        upstream.destroy();
        this.pairs.delete(pair);
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  get url(): string {
    const u = new globalThis.URL(URL);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  freeze(): void {
    this.frozen = true;
    for (const [a, b] of this.pairs) {
      a.unpipe(b);
      b.unpipe(a);
      a.pause();
      b.pause();
    }
  }

  async stop(): Promise<void> {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
    for (const c of this.orphans) c.destroy();
    this.orphans.clear();
    this.frozen = false;
    if (this.server) await new Promise((r) => this.server!.close(r));
    this.server = undefined;
  }
}

beforeAll(async () => {
  try {
    admin = await amqp.connect(URL);
  } catch (e) {
    throw new Error(`RabbitMQ at ${URL} is not reachable (${(e as Error).message}); ${START_HINT}`);
  }
  adminCh = await admin.createChannel();
});

afterAll(async () => {
  await Promise.all(transports.map((t) => t.close()));
  if (!admin) return;
  const ch = await admin.createChannel();
  for (const n of nodes) {
    await ch.deleteQueue(`virtbus.cmd.${n}`);
  }
  await admin.close();
});

describe('AmqpTransport (RabbitMQ)', () => {
  test('declares the contract topology', async () => {
    const node = newNodeId();
    const t = newTransport(node);
    await t.start({ beforeConsume: async () => undefined, onDelivery: () => undefined });

    const ch = await admin.createChannel();
    for (const x of ['virtbus.events', 'virtbus.commands', 'virtbus.broadcast', 'virtbus.dlx'])
      await ch.checkExchange(x);
    await ch.checkQueue('virtbus.dlq');
    const q = await ch.checkQueue(`virtbus.cmd.${node}`);
    expect(q.consumerCount).toBe(1);
    await ch.close();

    const line = (await rabbitmqctl('list_queues', '--no-table-headers', 'name', 'type', 'durable', 'arguments'))
      .split('\n')
      .find((l) => l.startsWith(`virtbus.cmd.${node}\t`));
    expect(line).toBeDefined();
    const [, type, durable, args] = line!.split('\t');
    expect(type).toBe('quorum');
    expect(durable).toBe('true');
    expect(args).toContain('{"x-single-active-consumer",true}');
    expect(args).toContain('{"x-dead-letter-exchange","virtbus.dlx"}');
    expect(args).toContain('{"x-delivery-limit",5}');

    // Presence: the fleet's presence log (a stream, bound to every presence event), no queue per node.
    const queues = (
      await rabbitmqctl('list_queues', '--no-table-headers', 'name', 'type', 'durable', 'arguments')
    ).split('\n');
    const log = queues.find((l) => l.startsWith('virtbus.fleet.presence\t'));
    expect(log).toBeDefined();
    const [, ltype, ldurable, largs] = log!.split('\t');
    expect({ ltype, ldurable }).toEqual({ ltype: 'stream', ldurable: 'true' });
    expect(largs).toContain('{"x-max-age","1h"}');
    expect(queues.some((l) => l.startsWith(`virtbus.presence.${node}\t`))).toBe(false);
    const bindings = await rabbitmqctl(
      'list_bindings',
      '--no-table-headers',
      'source_name',
      'destination_name',
      'routing_key',
    );
    for (const ev of ['online', 'heartbeat', 'offline'])
      expect(bindings).toContain(`virtbus.events\tvirtbus.fleet.presence\tv1.*.agent.*.${ev}`);

    // Named for operators; heartbeats negotiated at heartbeatS (default 10).
    const conn = (await rabbitmqctl('list_connections', '--no-table-headers', 'timeout', 'client_properties'))
      .split('\n')
      .find((l) => l.includes(`{"connection_name","virtbus-agent-${node}"}`));
    expect(conn?.split('\t')[0]).toBe('10');

    // Exchange kinds: redeclaring with the contract's type succeeds only if they match.
    const check = await admin.createChannel();
    await check.assertExchange('virtbus.events', 'topic', { durable: true });
    await check.assertExchange('virtbus.commands', 'direct', { durable: true });
    await check.assertExchange('virtbus.broadcast', 'fanout', { durable: true });
    await check.close();
  });

  test('refuses to start against a queue declared differently, naming queue and argument', async () => {
    const node = newNodeId();
    const ch = await admin.createChannel();
    // As an agent configured with another deliveryLimit would have left it.
    await ch.assertQueue(`virtbus.cmd.${node}`, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-single-active-consumer': true,
        'x-dead-letter-exchange': 'virtbus.dlx',
        'x-delivery-limit': 3,
      },
    });
    await ch.close();
    const t = newTransport(node);
    const events = lifecycle(t);
    const err = await t.start({ beforeConsume: async () => undefined, onDelivery: () => undefined }).catch((e) => e);
    expect(err).toBeInstanceOf(TopologyMismatchError);
    expect(err.message).toContain(`queue 'virtbus.cmd.${node}'`);
    expect(err.message).toContain("'x-delivery-limit'");
    expect(err).toMatchObject({ kind: 'queue', entity: `virtbus.cmd.${node}`, argument: 'x-delivery-limit' });
    // Given up at once, not retried.
    expect(events.all.filter((e) => e.name === 'connect-failed')).toHaveLength(0);
    await expect(
      t.publishEvent({
        object: 'agent',
        id: node,
        event: 'online',
        body: Buffer.from('{}'),
        contentType: 'application/json',
        messageId: 'x',
      }),
    ).rejects.toThrow(`virtbus.cmd.${node}`);
    await t.close();
  });

  test("a peer's presence is looked up in the presence log: the latest record; an earlier version's presence queue is dropped", async () => {
    const node = newNodeId();
    const ch = await admin.createChannel();
    const q = `virtbus.presence.${node}`;
    await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-max-length': 1 } });
    await ch.close();
    const t = newTransport(node);
    const events = lifecycle(t);
    const presence = (event: string, n: number) =>
      t.publishEvent({
        object: 'agent',
        id: node,
        event,
        body: Buffer.from(JSON.stringify({ n })),
        contentType: 'application/json',
        messageId: randomUUID(),
      });
    await t.start({ beforeConsume: () => presence('online', 1), onDelivery: () => undefined });
    await presence('heartbeat', 2);
    await presence('heartbeat', 3);
    const probe = await admin.createChannel();
    probe.on('error', () => undefined);
    await expect(probe.checkQueue(q)).rejects.toMatchObject({ code: 404 });
    expect(events.all.filter((e) => e.name === 'warning')).toEqual([]);
    // what a peer's lookup finds: the latest, as often as it asks; a node never seen: nothing
    const other = newTransport(newNodeId());
    await other.start({ beforeConsume: async () => undefined, onDelivery: () => undefined });
    for (let i = 0; i < 2; i++) expect((await other.lookupPresence(node, 5000))?.body.toString()).toBe('{"n":3}');
    expect(await other.lookupPresence(newNodeId(), 5000)).toBeUndefined();
  });

  test('--topology passive: refuses to start naming what the operator has not declared, and declares nothing', async () => {
    const node = newNodeId();
    const t = newTransport(node, { topology: 'passive' });
    const events = lifecycle(t);
    const err = await t.start({ beforeConsume: async () => undefined, onDelivery: () => undefined }).catch((e) => e);
    expect(err).toBeInstanceOf(TopologyMissingError);
    expect(err.message).toContain(`queue 'virtbus.cmd.${node}' do`);
    expect(err.missing).toEqual([`queue 'virtbus.cmd.${node}'`]);
    expect(err.message).toContain('--topology passive');
    expect(events.all.filter((e) => e.name === 'connect-failed')).toHaveLength(0); // given up at once
    await t.close();
    // the check declared nothing
    const probe = await admin.createChannel();
    probe.on('error', () => undefined);
    await expect(probe.checkQueue(`virtbus.cmd.${node}`)).rejects.toMatchObject({ code: 404 });
  });

  test('--topology passive: with the topology declared by someone else it consumes commands and broadcasts', async () => {
    const node = newNodeId();
    // the operator's part: what a declaring agent (or deploy/rabbitmq) sets up
    const operator = newTransport(node);
    await operator.start({ beforeConsume: async () => undefined, onDelivery: () => undefined });
    await operator.close();
    const t = newTransport(node, { topology: 'passive' });
    const { log, onDelivery } = deliveries();
    await t.start({ beforeConsume: async () => undefined, onDelivery });
    sendCommand(node, { messageId: 'p1' });
    const d = await log.waitFor((x) => x.message.messageId === 'p1', 'the command in passive mode');
    expect(d.message.origin).toBe('node');
    d.ack();
    adminCh.publish('virtbus.broadcast', '', Buffer.from('{}'), { messageId: 'p2' });
    const b = await log.waitFor((x) => x.message.messageId === 'p2', 'a broadcast in passive mode');
    expect(b.message.origin).toBe('broadcast');
    b.ack();
    await t.close();
  });

  test('delivers node commands and broadcasts; replies reach the caller', async () => {
    const node = newNodeId();
    const t = newTransport(node);
    const d = deliveries();
    await t.start({ beforeConsume: async () => undefined, onDelivery: d.onDelivery });
    const replies = await clientQueue();

    sendCommand(node, { replyTo: replies.name, correlationId: 'c-1', messageId: 'c-1', headers: { 'x-trace': 'abc' } });
    const cmd = await d.log.waitFor((x) => x.message.messageId === 'c-1', 'command c-1');
    expect(cmd.message).toMatchObject({
      contentType: 'application/cloudevents+json',
      messageId: 'c-1',
      correlationId: 'c-1',
      replyTo: replies.name,
      headers: { 'x-trace': 'abc' },
      redelivered: false,
      origin: 'node',
    });
    expect(cmd.message.body.toString()).toBe('{"type":"virtbus.cmd.agent.ping"}');

    await t.publishReply({
      to: cmd.message.replyTo!,
      correlationId: cmd.message.correlationId!,
      body: Buffer.from('{"ok":true}'),
      contentType: 'application/cloudevents+json',
    });
    cmd.ack();
    const reply = await replies.log.waitFor(() => true, 'the reply');
    expect(reply.properties.correlationId).toBe('c-1');
    expect(reply.properties.contentType).toBe('application/cloudevents+json');
    expect(reply.content.toString()).toBe('{"ok":true}');

    const bcId = `bc-${randomUUID()}`;
    adminCh.publish('virtbus.broadcast', '', Buffer.from('{}'), { messageId: bcId });
    const bc = await d.log.waitFor((x) => x.message.messageId === bcId, 'the broadcast');
    expect(bc.message.origin).toBe('broadcast');
    bc.ack();
    await t.close();
  });

  test('publishes events to virtbus.events with the contract routing key', async () => {
    const node = newNodeId();
    const t = newTransport(node);
    await t.start({ beforeConsume: async () => undefined, onDelivery: () => undefined });
    const events = await clientQueue({ exchange: 'virtbus.events', key: `v1.${node}.#` });
    const uuid = randomUUID();
    const before = Math.floor(Date.now() / 1000);

    await t.publishEvent({
      object: 'domain',
      id: uuid,
      event: 'lifecycle',
      body: Buffer.from('{"seq":1}'),
      contentType: 'application/cloudevents+json',
      messageId: 'ev-1',
    });
    const m = await events.log.waitFor(() => true, 'the event');
    expect(m.fields.exchange).toBe('virtbus.events');
    expect(m.fields.routingKey).toBe(`v1.${node}.domain.${uuid}.lifecycle`);
    expect(m.properties).toMatchObject({
      messageId: 'ev-1',
      contentType: 'application/cloudevents+json',
      deliveryMode: 2,
    });
    expect(m.properties.timestamp).toBeGreaterThanOrEqual(before);
    expect(m.content.toString()).toBe('{"seq":1}');

    // A caller's id with a dot stays one word of the key (percent-encoded), as the README's rule says.
    await t.publishEvent({
      object: 'command',
      id: 'a.b',
      event: 'completed',
      body: Buffer.from('{}'),
      contentType: 'application/cloudevents+json',
      messageId: 'ev-2',
    });
    const dotted = await events.log.waitFor((x) => x.properties.messageId === 'ev-2', 'the event with a dotted id');
    expect(dotted.fields.routingKey).toBe(`v1.${node}.command.a%2Eb.completed`);
    await t.close();
  });

  test('reconnects after the broker closes the connection, re-running beforeConsume; publishes wait it out', async () => {
    const node = newNodeId();
    const t = newTransport(node);
    const log = lifecycle(t);
    const d = deliveries();
    let snapshots = 0;
    // Like the agent's snapshot: publishes and awaits confirms before consuming starts.
    const beforeConsume = async () => {
      snapshots++;
      await t.publishEvent({
        object: 'agent',
        id: node,
        event: 'snapshot',
        body: Buffer.from(String(snapshots)),
        contentType: 'application/json',
        messageId: `snap-${snapshots}`,
      });
    };
    await t.start({ beforeConsume, onDelivery: d.onDelivery });
    expect(log.all.map((e) => e.name)).toEqual(['connected']);
    expect(log.all[0].args[0]).toEqual({ reconnect: false });
    const events = await clientQueue({ exchange: 'virtbus.events', key: `v1.${node}.#` });

    // A command the agent holds unsettled when the connection dies.
    sendCommand(node, { messageId: 'held' });
    const held = await d.log.waitFor((x) => x.message.messageId === 'held', 'command held');

    const mark = log.mark();
    await killConnection(node);
    await log.waitFor((e) => e.name === 'disconnected', "'disconnected'", 10000, mark);
    // Settling on the dead channel is a no-op, not a throw (and not an ack on the next channel).
    expect(() => held.ack()).not.toThrow();
    // Published while disconnected: resolves once confirmed after the reconnect.
    const during = t.publishEvent({
      object: 'agent',
      id: node,
      event: 'heartbeat',
      body: Buffer.from('{}'),
      contentType: 'application/json',
      messageId: 'during',
    });

    const connected = await log.waitFor((e) => e.name === 'connected', "'connected' again", 15000, mark);
    expect(connected.args[0]).toEqual({ reconnect: true });
    expect(
      log.all
        .slice(mark)
        .map((e) => e.name)
        .filter((n) => n !== 'warning' && n !== 'connect-failed'),
    ).toEqual(['disconnected', 'connected']);
    expect(snapshots).toBe(2);
    await during;
    expect(
      (await events.log.waitFor((m) => m.properties.messageId === 'during', 'the event published while down')).fields
        .routingKey,
    ).toBe(`v1.${node}.agent.${node}.heartbeat`);

    // The broker redelivers what the dead channel never acked…
    const again = await d.log.waitFor(
      (x) => x.message.messageId === 'held' && x !== held,
      'the held command redelivered',
    );
    expect(again.message.redelivered).toBe(true);
    again.ack();
    // …and new commands flow.
    sendCommand(node, { messageId: 'after' });
    (await d.log.waitFor((x) => x.message.messageId === 'after', 'command after the reconnect')).ack();
    await t.close();
  });

  test('a consumer cancelled by the broker (queue deleted) counts as a lost connection', async () => {
    const node = newNodeId();
    const t = newTransport(node);
    const log = lifecycle(t);
    const d = deliveries();
    let snapshots = 0;
    await t.start({
      beforeConsume: async () => {
        snapshots++;
      },
      onDelivery: d.onDelivery,
    });

    const mark = log.mark();
    const ch = await admin.createChannel();
    await ch.deleteQueue(`virtbus.cmd.${node}`);
    await ch.close();
    const lost = await log.waitFor((e) => e.name === 'disconnected', "'disconnected'", 10000, mark);
    expect((lost.args[0] as { reason: string }).reason).toContain('cancelled');
    await log.waitFor((e) => e.name === 'connected', "'connected' again", 15000, mark);
    expect(snapshots).toBe(2);

    sendCommand(node, { messageId: 'after-cancel' });
    (await d.log.waitFor((x) => x.message.messageId === 'after-cancel', 'command on the redeclared queue')).ack();
    await t.close();
  });

  test('a rejected command is dead-lettered into virtbus.dlq', async () => {
    const node = newNodeId();
    const t = newTransport(node);
    const d = deliveries();
    await t.start({ beforeConsume: async () => undefined, onDelivery: d.onDelivery });
    const id = `dead-${randomUUID()}`;
    sendCommand(node, { messageId: id });
    const cmd = await d.log.waitFor((x) => x.message.messageId === id, 'the command');
    cmd.reject();
    expect(() => cmd.ack()).not.toThrow(); // a second settle is ignored

    const ch = await admin.createChannel();
    const dead = await eventually(
      async () => {
        // Others' dead letters may sit in the shared DLQ: take ours, put the rest back.
        const seen: amqp.GetMessage[] = [];
        try {
          for (;;) {
            const m = await ch.get('virtbus.dlq');
            if (!m) return undefined;
            if (m.properties.messageId === id) {
              ch.ack(m);
              return m;
            }
            seen.push(m);
          }
        } finally {
          for (const m of seen) ch.nack(m, false, true);
        }
      },
      `message ${id} in virtbus.dlq`,
      10000,
    );
    const death = dead.properties.headers?.['x-death']?.[0];
    expect(death).toMatchObject({ queue: `virtbus.cmd.${node}`, reason: 'rejected' });
    await ch.close();
    await t.close();
  });

  test('back-pressure: 2,000 concurrent events all confirmed, never more than 32 in flight', async () => {
    const node = newNodeId();
    const t = newTransport(node, { maxInFlightPublishes: 32 });
    await t.start({ beforeConsume: async () => undefined, onDelivery: () => undefined });
    const events = await clientQueue({ exchange: 'virtbus.events', key: `v1.${node}.#` });

    let sampledMax = 0;
    const sample = setInterval(() => {
      sampledMax = Math.max(sampledMax, t.inFlight);
    }, 1);
    const body = Buffer.alloc(512, 'x');
    const all = Array.from({ length: 2000 }, (_, i) => {
      const p = t.publishEvent({
        object: 'domain',
        id: String(i),
        event: 'stats',
        body,
        contentType: 'application/octet-stream',
        messageId: `m-${i}`,
      });
      sampledMax = Math.max(sampledMax, t.inFlight);
      return p;
    });
    await Promise.all(all);
    clearInterval(sample);

    expect(t.peakInFlight).toBeLessThanOrEqual(32);
    expect(sampledMax).toBeLessThanOrEqual(32);
    expect(t.peakInFlight).toBe(32); // the window was actually used
    expect(t.inFlight).toBe(0);
    await events.log.waitFor(() => events.log.all.length >= 2000, 'all 2,000 events at the consumer', 10000);
    expect(new Set(events.log.all.map((m) => m.properties.messageId)).size).toBe(2000);
    await t.close();
  });

  test('reconnects through a broker outage (connection reset, connects refused, broker back)', async () => {
    const relay = new BrokerRelay();
    await relay.start();
    try {
      const node = newNodeId();
      const t = newTransport(node, { endpoint: relay.url });
      const log = lifecycle(t);
      const d = deliveries();
      await t.start({ beforeConsume: async () => undefined, onDelivery: d.onDelivery });
      const mark = log.mark();
      await relay.stop();
      await log.waitFor((e) => e.name === 'disconnected', "'disconnected'", 10000, mark);
      await log.waitFor((e) => e.name === 'connect-failed', 'a failed reconnect attempt', 10000, mark);
      const pending = t.publishEvent({
        object: 'agent',
        id: node,
        event: 'heartbeat',
        body: Buffer.from('{}'),
        contentType: 'application/json',
        messageId: 'outage',
      });
      await relay.start(); // same port
      expect((await log.waitFor((e) => e.name === 'connected', "'connected' again", 15000, mark)).args[0]).toEqual({
        reconnect: true,
      });
      await pending;
      sendCommand(node, { messageId: 'after-outage' });
      (await d.log.waitFor((x) => x.message.messageId === 'after-outage', 'command after the outage')).ack();
      await t.close();
    } finally {
      await relay.stop();
    }
  });

  test('an endpoint with several URLs fails over to the next when its broker goes away for good', async () => {
    const relay = new BrokerRelay();
    await relay.start();
    try {
      const node = newNodeId();
      // first the relay (a broker that will vanish), then the broker itself: a cluster of two as the agent sees it
      // (a node's round starts at the URL its id picks: the list is laid out so that this is the relay)
      const t = newTransport(node, {
        endpoint: firstUrlIndex(node, 2) === 0 ? [relay.url, URL] : [URL, relay.url],
      });
      const log = lifecycle(t);
      const d = deliveries();
      await t.start({ beforeConsume: async () => undefined, onDelivery: d.onDelivery });
      expect(relay.connections).toBeGreaterThan(0);
      const mark = log.mark();
      await relay.stop(); // never comes back
      await log.waitFor((e) => e.name === 'disconnected', "'disconnected'", 10000, mark);
      expect(
        (await log.waitFor((e) => e.name === 'connected', "'connected' through the second URL", 15000, mark)).args[0],
      ).toEqual({ reconnect: true });
      sendCommand(node, { messageId: 'after-failover' });
      (await d.log.waitFor((x) => x.message.messageId === 'after-failover', 'command after the fail-over')).ack();
      await t.close();
    } finally {
      await relay.stop();
    }
  });

  test('heartbeats detect a silently dead network', async () => {
    const relay = new BrokerRelay();
    await relay.start();
    try {
      const node = newNodeId();
      const t = newTransport(node, { endpoint: relay.url, heartbeatS: 1 });
      const log = lifecycle(t);
      const d = deliveries();
      await t.start({ beforeConsume: async () => undefined, onDelivery: d.onDelivery });
      const mark = log.mark();
      relay.freeze(); // the existing connection hangs; new ones still pass
      const lost = await log.waitFor(
        (e) => e.name === 'disconnected',
        "'disconnected' by heartbeat timeout",
        10000,
        mark,
      );
      expect((lost.args[0] as { reason: string }).reason).toMatch(/heartbeat/i);
      await log.waitFor((e) => e.name === 'connected', "'connected' again", 15000, mark);
      // Single active consumer: ours becomes active once the broker's own
      // heartbeat check has dropped the frozen connection.
      sendCommand(node, { messageId: 'after-freeze' });
      (
        await d.log.waitFor((x) => x.message.messageId === 'after-freeze', 'command after the frozen connection', 15000)
      ).ack();
      await t.close();
    } finally {
      await relay.stop();
    }
  });

  test('a beforeConsume that throws fails the attempt, which is retried', async () => {
    const node = newNodeId();
    const t = newTransport(node);
    const log = lifecycle(t);
    let calls = 0;
    await t.start({
      beforeConsume: async () => {
        if (++calls === 1) throw new Error('libvirt not ready');
      },
      onDelivery: () => undefined,
    });
    expect(calls).toBe(2);
    expect(log.all.map((e) => e.name)).toEqual(['connect-failed', 'connected']);
    expect((log.all[0].args[0] as Error).message).toBe('libvirt not ready');
    await t.close();
  });

  test('stopConsuming() cancels consumers; deliveries in hand can still be acked', async () => {
    const node = newNodeId();
    const t = newTransport(node);
    const d = deliveries();
    await t.start({ beforeConsume: async () => undefined, onDelivery: d.onDelivery });
    sendCommand(node, { messageId: 'in-hand' });
    const inHand = await d.log.waitFor((x) => x.message.messageId === 'in-hand', 'command in hand');

    await t.stopConsuming();
    sendCommand(node, { messageId: 'not-taken' });
    await new Promise((r) => setTimeout(r, 300));
    expect(d.log.all.map((x) => x.message.messageId)).toEqual(['in-hand']);
    inHand.ack();
    // The acked command is gone for good; the new one waits for another consumer. (A quorum
    // queue keeps counting a cancelled consumer until its deliveries are settled.)
    const ch = await admin.createChannel();
    await eventually(
      async () => {
        const q = await ch.checkQueue(`virtbus.cmd.${node}`);
        return q.consumerCount === 0 && q.messageCount === 1;
      },
      'no consumer and exactly the new command in the queue',
      5000,
      50,
    );
    await ch.close();
    await t.close();
  });

  test('close() is idempotent and waits for outstanding confirms', async () => {
    const node = newNodeId();
    const t = newTransport(node);
    await t.start({ beforeConsume: async () => undefined, onDelivery: () => undefined });
    let confirmed = 0;
    const pending = Array.from({ length: 300 }, (_, i) =>
      t
        .publishEvent({
          object: 'domain',
          id: String(i),
          event: 'stats',
          body: Buffer.from('{}'),
          contentType: 'application/json',
          messageId: `c-${i}`,
        })
        .then(() => {
          confirmed++;
        }),
    );
    const first = t.close();
    expect(t.close()).toBe(first);
    await first;
    expect(confirmed).toBe(300);
    await Promise.all(pending);
    await expect(t.close()).resolves.toBeUndefined();
    await expect(
      t.publishEvent({ object: 'a', id: 'b', event: 'c', body: Buffer.alloc(0), contentType: 'x', messageId: 'late' }),
    ).rejects.toBeInstanceOf(TransportClosedError);
  });

  test('while the broker is unreachable: start retries, publishes wait, close() rejects them', async () => {
    const t = newTransport(newNodeId(), { endpoint: 'amqp://guest:guest@127.0.0.1:1' });
    const log = lifecycle(t);
    const started = t.start({ beforeConsume: async () => undefined, onDelivery: () => undefined });
    const failed = await log.waitFor(
      (e) => e.name === 'connect-failed' && (e.args[1] as { attempt: number }).attempt >= 2,
      'two failed attempts',
      10000,
    );
    expect((failed.args[1] as { delayMs: number }).delayMs).toBeGreaterThan(0);
    const waiting = t.publishEvent({
      object: 'agent',
      id: 'x',
      event: 'online',
      body: Buffer.from('{}'),
      contentType: 'application/json',
      messageId: 'w',
    });
    expect(t.queuedPublishes).toBe(1);
    await t.close();
    await expect(waiting).rejects.toBeInstanceOf(TransportClosedError);
    await expect(started).rejects.toBeInstanceOf(TransportClosedError);
  });

  test('refuses bodies over maxMessageBytes before they reach the broker', async () => {
    const t = newTransport(newNodeId(), { maxMessageBytes: 1024 });
    await t.start({ beforeConsume: async () => undefined, onDelivery: () => undefined });
    await expect(
      t.publishReply({ to: 'amq.gen-x', correlationId: 'c', body: Buffer.alloc(2048), contentType: 'x' }),
    ).rejects.toThrow(/exceeds maxMessageBytes 1024/);
    await t.close();
  });
});
