// The event publisher over an in-memory transport and a fake libvirt (no
// broker, no libvirtd): events handed on in enqueue order without waiting
// for each confirm, bounded by maxUnconfirmed; seq per domain; the state a
// lifecycle event says, else the domain's state read after the event arrived,
// once per domain and turn; the snapshot queued behind earlier events; and
// every failure reported to onError or the caller without stopping the queue.
import { EventPublisher } from '../../src/events/publisher';
import type { ContractEvent } from '../../src/events/mapping';
import type { OutboundEvent, Transport, TransportEvents } from '../../src/bus/transport';
import { jsonCodec, type MessageCodec, type OutgoingEvent } from '../../src/codec/codec';
import { CE_JSON, type CloudEvent } from '../../src/contract/envelope';
import { DomainEventData, SnapshotData } from '../../src/contract/events';
import { validator } from '../../src/contract/validate';
import { LibvirtError, type Connection, type DomainStateName, type LibvirtEvent } from '../../src/libvirt';
import { enums } from '../../src/libvirt/gen/constants.gen';
import { TypedEmitter } from '../../src/typed-emitter';

/** Records every publishEvent; confirms at once, or only when the test says (manual), or fails. */
class FakeTransport extends TypedEmitter<TransportEvents> implements Transport {
  readonly kind = 'amqp' as const;
  readonly maxCorrelationIdBytes = 255;
  readonly publishDropped = 0;
  /** every publishEvent call, in call order */
  readonly calls: OutboundEvent[] = [];
  /** calls waiting for their confirm (manual mode) */
  readonly pending: Array<{ e: OutboundEvent; confirm: () => void }> = [];
  manual = false;
  /** an error for a call makes that publish fail (the broker refused it for good) */
  failWith?: (e: OutboundEvent) => Error | undefined;

  replyAddressProblem(): string | undefined {
    return undefined;
  }
  async start(): Promise<void> {}
  async stopConsuming(): Promise<void> {}
  async publishReply(): Promise<void> {
    throw new Error('the publisher sends no replies');
  }
  async close(): Promise<void> {}
  renew(): boolean {
    return false;
  }
  async lookupPresence(): Promise<undefined> {
    return undefined;
  }
  async publishEvent(e: OutboundEvent): Promise<void> {
    this.calls.push(e);
    const err = this.failWith?.(e);
    if (err) throw err;
    if (this.manual) await new Promise<void>((confirm) => this.pending.push({ e, confirm }));
  }
  /** confirms the oldest waiting publish */
  confirmNext(): void {
    const p = this.pending.shift();
    if (!p) throw new Error('nothing waits for a confirm');
    p.confirm();
  }
  /** back to confirming at once; confirms whatever waits */
  releaseAll(): void {
    this.manual = false;
    for (let p = this.pending.shift(); p; p = this.pending.shift()) p.confirm();
  }
}

interface FakeDomain {
  uuid: string;
  name: string;
  id: number;
  state: string;
  reason: string;
  persistent: boolean;
  /** listed, but gone when its state is read (a transient guest that just stopped) */
  vanished?: boolean;
}

const NO_DOMAIN = enums.virErrorNumber.VIR_ERR_NO_DOMAIN;
const VIR_FROM_TEST = enums.virErrorDomain.VIR_FROM_TEST;

/** The part of a libvirt Connection the publisher calls, over plain data the test can change. */
class FakeLibvirt {
  readonly domains = new Map<string, FakeDomain>();
  pools: Array<{ uuid: string; name: string; state: string }> = [];
  networks: Array<{ uuid: string; name: string; active: boolean }> = [];
  /** uuids whose state was read for an event, in order */
  readonly stateReads: string[] = [];
  /** makes every state read for an event fail with this */
  stateError?: Error;

  add(d: FakeDomain): FakeDomain {
    this.domains.set(d.uuid, d);
    return d;
  }

  /** what readDomainState answers: the fake domain's state, or the failure set up */
  readonly readState = async (uuid: string): Promise<{ state: string; reason: string }> => {
    this.stateReads.push(uuid);
    if (this.stateError) throw this.stateError;
    const d = this.domains.get(uuid);
    if (!d)
      throw new LibvirtError(`Domain not found: no domain with matching uuid '${uuid}'`, NO_DOMAIN, VIR_FROM_TEST, 2);
    return { state: d.state, reason: d.reason };
  };

  /** what the snapshot's listing answers: every domain not vanished, with its state */
  readonly listDomains = async () =>
    [...this.domains.values()]
      .filter((d) => !d.vanished)
      .map((d) => ({
        uuid: d.uuid,
        name: d.name,
        id: d.id,
        state: d.state as DomainStateName,
        reason: d.reason,
        persistent: d.persistent,
      }));

  readonly connection = {
    listStoragePools: async () =>
      this.pools.map((p) => ({ uuid: p.uuid, name: p.name, info: async () => ({ state: p.state }) })),
    listNetworks: async () =>
      this.networks.map((n) => ({ uuid: n.uuid, name: n.name, isActive: async () => n.active })),
  } as unknown as Connection;
}

const NODE = 'hv-01';
const BOOT = '0b1c2d3e-boot';
const A = { name: 'web-1', uuid: '11111111-1111-4111-8111-111111111111', id: 1 };
const B = { name: 'db-1', uuid: '22222222-2222-4222-8222-222222222222', id: 2 };
const C = { name: 'idle', uuid: '33333333-3333-4333-8333-333333333333', id: -1 };
const POOL = { name: 'default-pool', uuid: '44444444-4444-4444-8444-444444444444' };
const NET = { name: 'default', uuid: '55555555-5555-4555-8555-555555555555' };

const started = (d: typeof A): LibvirtEvent => ({ type: 'lifecycle', domain: d, event: 'started', detail: 'booted' });
const stopped = (d: typeof A): LibvirtEvent => ({ type: 'lifecycle', domain: d, event: 'stopped', detail: 'shutdown' });
/** the guest is shutting down: it may still run, so the event does not say the state */
const shuttingDown = (d: typeof A): LibvirtEvent => ({
  type: 'lifecycle',
  domain: d,
  event: 'shutdown',
  detail: 'finished',
});
const reboot = (d: typeof A): LibvirtEvent => ({ type: 'reboot', domain: d }) as LibvirtEvent;
const presence = (status: string): ContractEvent => ({
  object: 'agent',
  id: NODE,
  event: status,
  data: { node: NODE, status },
});

const open: Array<{ transport: FakeTransport; publisher: EventPublisher }> = [];

function setup(o: { connected?: boolean; codec?: MessageCodec } = {}) {
  const transport = new FakeTransport();
  const libvirt = new FakeLibvirt();
  const errors: Array<[unknown, ContractEvent | { object: string; event: string }]> = [];
  const publisher = new EventPublisher({
    node: NODE,
    bootId: BOOT,
    transport,
    codec: o.codec ?? jsonCodec,
    connection: () => (o.connected === false ? undefined : libvirt.connection),
    readDomainState: (_conn, uuid) => libvirt.readState(uuid),
    listDomains: () => libvirt.listDomains(),
    onError: (err, e) => errors.push([err, e]),
  });
  open.push({ transport, publisher });
  return { transport, libvirt, publisher, errors };
}

afterEach(async () => {
  // whatever a test left waiting is confirmed, so no worker outlives it
  for (const { transport, publisher } of open.splice(0)) {
    transport.failWith = undefined;
    transport.releaseAll();
    await publisher.flush();
  }
});

const envelope = (e: OutboundEvent) => jsonCodec.decode(e.body);
const dataOf = (e: OutboundEvent) => envelope(e).data as Record<string, unknown>;

/** Lets the worker run as far as it can (the fakes only use promises). */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

const until = async (cond: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 2));
  }
};

describe('domain events', () => {
  test('a domain event goes out as a CloudEvent addressed by the domain, with seq 1 and the current state', async () => {
    const { transport, libvirt, publisher, errors } = setup();
    libvirt.add({ ...A, state: 'running', reason: 'booted', persistent: true });
    const before = Date.now();
    publisher.enqueueLibvirt(started(A));
    await publisher.flush();

    expect(transport.calls).toHaveLength(1);
    const out = transport.calls[0];
    const env = envelope(out);
    expect(out).toEqual({
      object: 'domain',
      id: A.uuid,
      event: 'lifecycle',
      body: expect.any(Buffer),
      contentType: CE_JSON,
      // the envelope the body encodes, for MQTT 5 binary mode (built from it, not parsed back)
      envelope: env,
      messageId: env.id,
    });
    expect(env).toMatchObject({
      specversion: '1.0',
      type: 'virtbus.event.domain.lifecycle',
      source: `virtbus://${NODE}`,
      subject: A.uuid,
    });
    expect(env.data).toEqual({
      node: NODE,
      domain: { uuid: A.uuid, name: A.name },
      event: 'started',
      detail: 'booted',
      seq: 1,
      state: 'running',
      at: expect.any(String),
    });
    const at = Date.parse((env.data as { at: string }).at);
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
    expect(validator(DomainEventData)(env.data)).toBeUndefined();
    expect(publisher.published).toBe(1);
    expect(errors).toEqual([]);
  });

  test('seq rises by one per domain, each domain counting on its own; lastSeq is the last one given (0: none)', async () => {
    const { transport, libvirt, publisher } = setup();
    libvirt.add({ ...A, state: 'running', reason: 'booted', persistent: true });
    libvirt.add({ ...B, state: 'running', reason: 'booted', persistent: true });
    expect(publisher.lastSeq(A.uuid)).toBe(0);
    for (const e of [started(A), started(B), stopped(A), { type: 'reboot', domain: A } as LibvirtEvent, stopped(B)]) {
      publisher.enqueueLibvirt(e);
    }
    await publisher.flush();

    expect(transport.calls.map((c) => [c.id, c.event, dataOf(c).seq])).toEqual([
      [A.uuid, 'lifecycle', 1],
      [B.uuid, 'lifecycle', 1],
      [A.uuid, 'lifecycle', 2],
      [A.uuid, 'reboot', 3],
      [B.uuid, 'lifecycle', 2],
    ]);
    expect(publisher.lastSeq(A.uuid)).toBe(3);
    expect(publisher.lastSeq(B.uuid)).toBe(2);
    expect(publisher.lastSeq(C.uuid)).toBe(0);
    expect(publisher.published).toBe(5);
  });

  test('a lifecycle event that says the state it leaves the domain in carries that state, without a read', async () => {
    const { transport, libvirt, publisher } = setup();
    // libvirt already says something else: each event still carries the state it put the domain in
    libvirt.add({ ...A, state: 'crashed', reason: 'panicked', persistent: true });
    const says: Array<[string, string, string]> = [
      ['started', 'booted', 'running'],
      ['suspended', 'paused', 'paused'],
      ['resumed', 'unpaused', 'running'],
      ['suspended', 'migrated', 'paused'],
      ['resumed', 'postcopy', 'running'],
      ['stopped', 'migrated', 'shutoff'],
      ['started', 'restored', 'running'],
      ['pmsuspended', 'memory', 'pmsuspended'],
      ['stopped', 'destroyed', 'shutoff'],
    ];
    for (const [event, detail] of says) {
      publisher.enqueueLibvirt({ type: 'lifecycle', domain: A, event, detail } as LibvirtEvent);
    }
    await publisher.flush();

    expect(transport.calls.map((c) => [dataOf(c).event, dataOf(c).detail, dataOf(c).state])).toEqual(says);
    expect(transport.calls.map((c) => dataOf(c).seq)).toEqual(says.map((_, i) => i + 1));
    for (const c of transport.calls) expect(validator(DomainEventData)(dataOf(c))).toBeUndefined();
    expect(libvirt.stateReads).toEqual([]);
  });

  test('other events carry the state read after they arrived, once per domain for all its events of one turn; at is when it was reported', async () => {
    const { transport, libvirt, publisher } = setup();
    const a = libvirt.add({ ...A, state: 'running', reason: 'booted', persistent: true });
    const reportedFrom = Date.now();
    publisher.enqueueLibvirt(reboot(A));
    publisher.enqueueLibvirt(shuttingDown(A));
    publisher.enqueueLibvirt({ type: 'lifecycle', domain: A, event: 'defined', detail: 'updated' });
    const reportedTo = Date.now();
    // what libvirt says by the time the read goes out is what these events carry
    a.state = 'shutoff';
    a.reason = 'shutdown';
    await publisher.flush();

    expect(transport.calls.map((c) => [dataOf(c).event, dataOf(c).seq, dataOf(c).state])).toEqual([
      ['reboot', 1, 'shutoff'],
      ['shutdown', 2, 'shutoff'],
      ['defined', 3, 'shutoff'],
    ]);
    const at = Date.parse(dataOf(transport.calls[0]).at as string);
    expect(at).toBeGreaterThanOrEqual(reportedFrom);
    expect(at).toBeLessThanOrEqual(reportedTo);
    expect(libvirt.stateReads).toEqual([A.uuid]);

    // a later turn reads again
    a.state = 'running';
    publisher.enqueueLibvirt(reboot(A));
    await publisher.flush();
    expect(dataOf(transport.calls[3])).toMatchObject({ event: 'reboot', seq: 4, state: 'running' });
    expect(libvirt.stateReads).toEqual([A.uuid, A.uuid]);
  });

  test('an event that says its state waits behind an earlier event of the node still being read: order and seq hold', async () => {
    const { transport, libvirt, publisher } = setup();
    libvirt.add({ ...A, state: 'running', reason: 'booted', persistent: true });
    libvirt.add({ ...B, state: 'running', reason: 'booted', persistent: true });
    publisher.enqueueLibvirt(reboot(A));
    publisher.enqueueLibvirt(stopped(B));
    publisher.enqueueLibvirt(stopped(A));
    await publisher.flush();

    expect(transport.calls.map((c) => [c.id, dataOf(c).event, dataOf(c).seq, dataOf(c).state])).toEqual([
      [A.uuid, 'reboot', 1, 'running'],
      [B.uuid, 'stopped', 1, 'shutoff'],
      [A.uuid, 'stopped', 2, 'shutoff'],
    ]);
    expect(libvirt.stateReads).toEqual([A.uuid]);
  });

  test('while libvirt is disconnected, domain events still go out, numbered; without state unless the event says it', async () => {
    const { transport, publisher, errors } = setup({ connected: false });
    publisher.enqueueLibvirt(started(A));
    publisher.enqueueLibvirt(shuttingDown(A));
    publisher.enqueueLibvirt(stopped(A));
    await publisher.flush();

    expect(transport.calls.map(dataOf)).toEqual([
      {
        node: NODE,
        domain: { uuid: A.uuid, name: A.name },
        event: 'started',
        detail: 'booted',
        seq: 1,
        state: 'running',
        at: expect.any(String),
      },
      {
        node: NODE,
        domain: { uuid: A.uuid, name: A.name },
        event: 'shutdown',
        detail: 'finished',
        seq: 2,
        at: expect.any(String),
      },
      {
        node: NODE,
        domain: { uuid: A.uuid, name: A.name },
        event: 'stopped',
        detail: 'shutdown',
        seq: 3,
        state: 'shutoff',
        at: expect.any(String),
      },
    ]);
    expect(errors).toEqual([]);
  });

  test('an event for a domain that no longer exists goes out without state', async () => {
    const { transport, libvirt, publisher, errors } = setup();
    publisher.enqueueLibvirt({ type: 'lifecycle', domain: A, event: 'undefined', detail: 'removed' });
    await publisher.flush();

    expect(libvirt.stateReads).toEqual([A.uuid]);
    expect(transport.calls).toHaveLength(1);
    const data = dataOf(transport.calls[0]);
    expect(data).toMatchObject({ event: 'undefined', detail: 'removed', seq: 1 });
    expect(data).not.toHaveProperty('state');
    expect(validator(DomainEventData)(data)).toBeUndefined();
    expect(errors).toEqual([]);
  });

  test('any other failure reading the state does not hold the event back: it goes out without state, and is told', async () => {
    const transport = new FakeTransport();
    const libvirt = new FakeLibvirt();
    const unreadable: Array<[unknown, string]> = [];
    const errors: unknown[] = [];
    const publisher = new EventPublisher({
      node: NODE,
      bootId: BOOT,
      transport,
      codec: jsonCodec,
      connection: () => libvirt.connection,
      readDomainState: (_conn, uuid) => libvirt.readState(uuid),
      listDomains: () => libvirt.listDomains(),
      onError: (err) => errors.push(err),
      onStateUnreadable: (err, uuid) => unreadable.push([err, uuid]),
    });
    open.push({ transport, publisher });
    libvirt.add({ ...A, state: 'running', reason: 'booted', persistent: true });
    const lost = new LibvirtError('internal error: connection lost', 1, VIR_FROM_TEST, 2);
    libvirt.stateError = lost;
    publisher.enqueueLibvirt(reboot(A));
    await publisher.flush();
    libvirt.stateError = undefined;
    publisher.enqueueLibvirt(reboot(A));
    await publisher.flush();

    expect(transport.calls).toHaveLength(2);
    expect(dataOf(transport.calls[0])).not.toHaveProperty('state');
    expect(dataOf(transport.calls[0]).seq).toBe(1);
    expect(dataOf(transport.calls[1])).toMatchObject({ seq: 2, state: 'running' });
    expect(unreadable).toEqual([[lost, A.uuid]]);
    expect(errors).toEqual([]);
  });

  test('pool and network events are neither numbered nor re-read', async () => {
    const { transport, libvirt, publisher } = setup();
    publisher.enqueueLibvirt({ type: 'pool-lifecycle', pool: POOL, event: 'started', detail: 0 });
    publisher.enqueueLibvirt({ type: 'pool-refresh', pool: POOL });
    publisher.enqueueLibvirt({ type: 'network-lifecycle', network: NET, event: 'stopped', detail: 0 });
    await publisher.flush();

    expect(libvirt.stateReads).toEqual([]);
    expect(transport.calls.map((c) => [c.object, c.id, c.event, envelope(c).type])).toEqual([
      ['pool', POOL.uuid, 'lifecycle', 'virtbus.event.pool.lifecycle'],
      ['pool', POOL.uuid, 'refresh', 'virtbus.event.pool.refresh'],
      ['network', NET.uuid, 'lifecycle', 'virtbus.event.network.lifecycle'],
    ]);
    for (const c of transport.calls) {
      expect(dataOf(c)).not.toHaveProperty('seq');
      expect(dataOf(c)).not.toHaveProperty('state');
    }
    expect(publisher.lastSeq(POOL.uuid)).toBe(0);
    expect(publisher.lastSeq(NET.uuid)).toBe(0);
  });
});

describe('order and confirms', () => {
  test('events reach the transport in enqueue order without waiting for each confirm', async () => {
    const { transport, libvirt, publisher } = setup();
    libvirt.add({ ...A, state: 'running', reason: 'booted', persistent: true });
    transport.manual = true;
    publisher.enqueueLibvirt(started(A));
    void publisher.enqueue(presence('heartbeat'));
    publisher.enqueueLibvirt({ type: 'pool-refresh', pool: POOL });
    publisher.enqueueLibvirt(stopped(A));

    const seen = () => transport.calls.map((c) => `${c.object}.${c.event}`);
    await until(() => transport.calls.length === 4);
    expect(seen()).toEqual(['domain.lifecycle', 'agent.heartbeat', 'pool.refresh', 'domain.lifecycle']);
    expect(publisher.inFlight).toBe(4);
    expect(publisher.published).toBe(0);
    transport.releaseAll();
    await publisher.flush();
    expect(publisher.published).toBe(4);
    expect(publisher.inFlight).toBe(0);
    expect(transport.calls.filter((c) => c.object === 'domain').map((c) => dataOf(c).seq)).toEqual([1, 2]);
  });

  test('at most maxUnconfirmed events are handed over unconfirmed; the rest wait for confirms, in order', async () => {
    const transport = new FakeTransport();
    const publisher = new EventPublisher({
      node: NODE,
      bootId: BOOT,
      transport,
      codec: jsonCodec,
      connection: () => undefined,
      onError: () => undefined,
      maxUnconfirmed: 2,
    });
    open.push({ transport, publisher });
    transport.manual = true;
    const all = ['a', 'b', 'c', 'd', 'e'].map((s) => publisher.enqueue(presence(s)));
    await until(() => transport.calls.length === 2);
    await settle();
    expect(transport.calls.map((c) => c.event)).toEqual(['a', 'b']);
    expect(publisher.queued).toBe(3);
    transport.confirmNext();
    await until(() => transport.calls.length === 3);
    await settle();
    expect(transport.calls.map((c) => c.event)).toEqual(['a', 'b', 'c']);
    transport.releaseAll();
    await Promise.all(all);
    expect(transport.calls.map((c) => c.event)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  test('enqueue resolves only once the broker confirmed the event, and only then counts it as published', async () => {
    const { transport, publisher } = setup();
    transport.manual = true;
    let done = false;
    const p = publisher.enqueue(presence('online')).then(() => {
      done = true;
    });
    await until(() => transport.pending.length === 1);
    await settle();
    expect(done).toBe(false);
    expect(publisher.published).toBe(0);

    transport.confirmNext();
    await p;
    expect(done).toBe(true);
    expect(publisher.published).toBe(1);
    const env = envelope(transport.calls[0]);
    expect(transport.calls[0]).toMatchObject({ object: 'agent', id: NODE, event: 'online', messageId: env.id });
    expect(env).toMatchObject({
      type: 'virtbus.event.agent.online',
      subject: NODE,
      data: { node: NODE, status: 'online' },
    });
  });

  test('a publish the broker refuses rejects enqueue with its error and is reported to onError with the event', async () => {
    const { transport, publisher, errors } = setup();
    const refused = new Error('PRECONDITION_FAILED - message too large');
    transport.failWith = (e) => (e.event === 'offline' ? refused : undefined);
    const ce = presence('offline');

    await expect(publisher.enqueue(ce)).rejects.toBe(refused);
    expect(errors).toEqual([[refused, ce]]);
    expect(publisher.published).toBe(0);

    await publisher.enqueue(presence('online'));
    expect(publisher.published).toBe(1);
    expect(transport.calls.map((c) => c.event)).toEqual(['offline', 'online']);
  });

  test('a libvirt event that cannot be published goes to onError; enqueueLibvirt never throws and the events behind it still go out', async () => {
    const { transport, libvirt, publisher, errors } = setup();
    libvirt.add({ ...A, state: 'running', reason: 'booted', persistent: true });
    const refused = new Error('NOT_FOUND - no exchange');
    let first = true;
    transport.failWith = () => {
      if (!first) return undefined;
      first = false;
      return refused;
    };

    expect(() => publisher.enqueueLibvirt(started(A))).not.toThrow();
    publisher.enqueueLibvirt(stopped(A));
    await publisher.flush();

    expect(errors).toHaveLength(1);
    expect(errors[0][0]).toBe(refused);
    expect(errors[0][1]).toMatchObject({
      object: 'domain',
      id: A.uuid,
      event: 'lifecycle',
      data: { event: 'started', seq: 1, state: 'running' },
    });
    // the refused event's seq is not handed out again
    expect(transport.calls.map((c) => dataOf(c).seq)).toEqual([1, 2]);
    expect(publisher.published).toBe(1);
    expect(publisher.lastSeq(A.uuid)).toBe(2);
  });

  test('an event the codec cannot encode does not stop the events behind it', async () => {
    const failing: MessageCodec = {
      contentType: CE_JSON,
      decode: jsonCodec.decode,
      encodeEvent: (e) => {
        if ((e.data as { event?: string }).event === 'started') throw new Error('cannot encode');
        return jsonCodec.encodeEvent(e);
      },
    };
    const { transport, publisher } = setup({ codec: failing, connected: false });
    publisher.enqueueLibvirt(started(A));
    publisher.enqueueLibvirt(stopped(A));
    await expect(publisher.enqueue(presence('heartbeat'))).resolves.toBeUndefined();

    expect(transport.calls.map((c) => [c.event, dataOf(c).event])).toEqual([
      ['lifecycle', 'stopped'],
      ['heartbeat', undefined],
    ]);
    expect(dataOf(transport.calls[0]).seq).toBe(2);
    expect(publisher.published).toBe(2);
  });

  test('each event is encoded with the configured codec and its body, content type and id are published unchanged', async () => {
    const seen: OutgoingEvent[] = [];
    let n = 0;
    const codec: MessageCodec = {
      contentType: 'application/x-test',
      decode: () => {
        throw new Error('not used');
      },
      encodeEvent: (e) => {
        seen.push(e);
        n++;
        return { body: Buffer.from(`body-${n}`), contentType: 'application/x-test', id: `id-${n}` };
      },
    };
    const { transport, libvirt, publisher } = setup({ codec });
    libvirt.add({ ...A, state: 'paused', reason: 'user', persistent: false });
    publisher.enqueueLibvirt({ type: 'watchdog', domain: A, action: 'pause' });
    await publisher.enqueue({ object: 'command', id: 'cmd-7', event: 'completed', data: { ok: true } });

    expect(seen).toEqual([
      {
        type: 'virtbus.event.domain.watchdog',
        source: `virtbus://${NODE}`,
        subject: A.uuid,
        data: {
          node: NODE,
          domain: { uuid: A.uuid, name: A.name },
          event: 'watchdog',
          action: 'pause',
          seq: 1,
          state: 'paused',
          at: expect.any(String),
        },
      },
      { type: 'virtbus.event.command.completed', source: `virtbus://${NODE}`, subject: 'cmd-7', data: { ok: true } },
    ]);
    expect(transport.calls).toEqual([
      {
        object: 'domain',
        id: A.uuid,
        event: 'watchdog',
        body: Buffer.from('body-1'),
        contentType: 'application/x-test',
        messageId: 'id-1',
      },
      {
        object: 'command',
        id: 'cmd-7',
        event: 'completed',
        body: Buffer.from('body-2'),
        contentType: 'application/x-test',
        messageId: 'id-2',
      },
    ]);
  });

  test('every event gets its own CloudEvents id as message id', async () => {
    const { transport, publisher } = setup({ connected: false });
    for (let i = 0; i < 5; i++) publisher.enqueueLibvirt(started(A));
    await publisher.flush();
    const ids = transport.calls.map((c) => c.messageId);
    expect(ids.map((id, i) => id === envelope(transport.calls[i]).id)).toEqual([true, true, true, true, true]);
    expect(new Set(ids).size).toBe(5);
  });
});

describe('snapshot', () => {
  function node(libvirt: FakeLibvirt) {
    libvirt.add({ ...A, state: 'running', reason: 'booted', persistent: true });
    libvirt.add({ ...B, state: 'paused', reason: 'user', persistent: false });
    libvirt.add({ ...C, state: 'shutoff', reason: 'shutdown', persistent: true });
    libvirt.pools = [{ ...POOL, state: 'running' }];
    libvirt.networks = [
      { ...NET, active: true },
      { name: 'isolated', uuid: '66666666-6666-4666-8666-666666666666', active: false },
    ];
  }

  test('the snapshot describes the whole node: every domain with state, persistence and seq, every pool and network', async () => {
    const { transport, libvirt, publisher, errors } = setup();
    node(libvirt);
    const before = Date.now();
    await publisher.snapshot('start');

    expect(transport.calls).toHaveLength(1);
    const out = transport.calls[0];
    const env: CloudEvent = envelope(out);
    expect(out).toMatchObject({
      object: 'agent',
      id: NODE,
      event: 'snapshot',
      contentType: CE_JSON,
      messageId: env.id,
    });
    expect(env).toMatchObject({ type: 'virtbus.event.agent.snapshot', source: `virtbus://${NODE}`, subject: NODE });
    expect(env.data).toEqual({
      node: NODE,
      bootId: BOOT,
      reason: 'start',
      at: expect.any(String),
      domains: [
        { uuid: A.uuid, name: A.name, id: 1, state: 'running', reason: 'booted', persistent: true, seq: 0 },
        { uuid: B.uuid, name: B.name, id: 2, state: 'paused', reason: 'user', persistent: false, seq: 0 },
        { uuid: C.uuid, name: C.name, id: -1, state: 'shutoff', reason: 'shutdown', persistent: true, seq: 0 },
      ],
      pools: [{ uuid: POOL.uuid, name: POOL.name, state: 'running' }],
      networks: [
        { uuid: NET.uuid, name: NET.name, active: true },
        { uuid: '66666666-6666-4666-8666-666666666666', name: 'isolated', active: false },
      ],
    });
    const at = Date.parse((env.data as { at: string }).at);
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
    expect(validator(SnapshotData)(env.data)).toBeUndefined();
    expect(publisher.published).toBe(1);
    expect(errors).toEqual([]);
  });

  test('the snapshot is queued behind earlier events: its seq values count exactly the events before it', async () => {
    const { transport, libvirt, publisher } = setup();
    node(libvirt);
    transport.manual = true;
    publisher.enqueueLibvirt(started(A));
    publisher.enqueueLibvirt(stopped(A));
    publisher.enqueueLibvirt(started(B));
    const snap = publisher.snapshot('broker-reconnect');
    publisher.enqueueLibvirt(stopped(A));
    transport.releaseAll();
    await snap;
    await publisher.flush();

    expect(transport.calls.map((c) => `${c.object}.${c.event}`)).toEqual([
      'domain.lifecycle',
      'domain.lifecycle',
      'domain.lifecycle',
      'agent.snapshot',
      'domain.lifecycle',
    ]);
    const snapshot = dataOf(transport.calls[3]) as unknown as SnapshotData;
    expect(snapshot.reason).toBe('broker-reconnect');
    expect(snapshot.domains.map((d) => [d.name, d.seq])).toEqual([
      [A.name, 2],
      [B.name, 1],
      [C.name, 0],
    ]);
    expect(dataOf(transport.calls[4]).seq).toBe(3);
  });

  test('a domain gone between the listing and its state read is left out of the snapshot, not a failed snapshot', async () => {
    const { transport, libvirt, publisher } = setup();
    libvirt.add({ ...A, state: 'running', reason: 'booted', persistent: true });
    libvirt.add({ ...B, state: 'running', reason: 'booted', persistent: false, vanished: true });
    await publisher.snapshot('start');
    const snapshot = dataOf(transport.calls[0]) as unknown as SnapshotData;
    expect(snapshot.domains.map((d) => d.name)).toEqual([A.name]);
  });

  test('without libvirt the snapshot rejects, nothing is published, and the queue goes on', async () => {
    const { transport, publisher, errors } = setup({ connected: false });
    await expect(publisher.snapshot('libvirt-reconnect')).rejects.toThrow('libvirt is not connected: no snapshot');
    expect(transport.calls).toEqual([]);
    expect(errors).toEqual([]); // the caller's to report

    await publisher.enqueue(presence('online'));
    expect(transport.calls.map((c) => c.event)).toEqual(['online']);
  });

  test('a snapshot the broker refuses rejects with its error and is reported to onError', async () => {
    const { transport, libvirt, publisher, errors } = setup();
    node(libvirt);
    const refused = new Error('channel closed');
    transport.failWith = (e) => (e.event === 'snapshot' ? refused : undefined);

    await expect(publisher.snapshot('start')).rejects.toBe(refused);
    expect(errors).toHaveLength(1);
    expect(errors[0][0]).toBe(refused);
    expect(errors[0][1]).toMatchObject({ object: 'agent', id: NODE, event: 'snapshot', data: { reason: 'start' } });
    expect(publisher.published).toBe(0);
  });
});

describe('flush', () => {
  test('flush resolves at once when nothing is queued', async () => {
    const { transport, publisher } = setup();
    await expect(publisher.flush()).resolves.toBeUndefined();
    expect(transport.calls).toEqual([]);
  });

  test('flush waits for everything queued and confirmed, including events queued while it waits', async () => {
    const { transport, publisher } = setup({ connected: false });
    transport.manual = true;
    publisher.enqueueLibvirt(started(A));
    publisher.enqueueLibvirt(stopped(A));
    let flushed = false;
    const f = publisher.flush().then(() => {
      flushed = true;
    });

    await until(() => transport.pending.length === 2);
    publisher.enqueueLibvirt(started(B));
    await until(() => transport.pending.length === 3);
    for (let confirmed = 0; confirmed < 3; confirmed++) {
      await settle();
      expect(flushed).toBe(false);
      transport.confirmNext();
    }
    await f;
    expect(flushed).toBe(true);
    expect(transport.calls.map((c) => c.id)).toEqual([A.uuid, A.uuid, B.uuid]);
    expect(publisher.published).toBe(3);
  });

  test('flush resolves, not rejects, when queued events failed', async () => {
    const { transport, publisher, errors } = setup({ connected: false });
    transport.failWith = () => new Error('refused');
    publisher.enqueueLibvirt(started(A));
    const p = publisher.enqueue(presence('heartbeat')).catch((e: Error) => e.message);
    await expect(publisher.flush()).resolves.toBeUndefined();
    await expect(p).resolves.toBe('refused');
    expect(errors.map(([, e]) => `${e.object}.${e.event}`)).toEqual(['domain.lifecycle', 'agent.heartbeat']);
    expect(publisher.published).toBe(0);
  });
});
