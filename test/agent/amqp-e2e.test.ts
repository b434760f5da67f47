// The agent end to end through RabbitMQ, driven by a plain amqplib client,
// on libvirt's test driver.
import { randomUUID } from 'node:crypto';
import type { Agent } from '../../src/agent/agent';
import { COMMANDS, type CommandName } from '../../src/contract/commands';
import { missingHandlers } from '../../src/commands/registry';
import { decodeProtobufEnvelope, encodeProtobufEnvelope } from '../../src/codec/protobuf';
import { CE_PROTOBUF } from '../../src/contract/envelope';
import { TestClient, deleteNodeQueues } from '../helpers/amqp-client';
import { startAgent, testNode } from '../helpers/agent';

const domainXml = (name: string) =>
  `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`;

describe('agent over RabbitMQ (test:///default)', () => {
  const node = testNode('e2e');
  let agent: Agent;
  let client: TestClient;

  beforeAll(async () => {
    client = await TestClient.connect();
    await client.bindEvents(`v1.${node}.#`);
    agent = await startAgent({ node, maxMessageBytes: 64 * 1024 });
  });
  afterAll(async () => {
    await agent?.close();
    await client?.close();
    await deleteNodeQueues(node);
  });

  test('presence online and a snapshot were published at start', async () => {
    const online = await client.waitFor((m) => m.routingKey === `v1.${node}.agent.${node}.online`, 'online');
    expect(online.body).toMatchObject({ specversion: '1.0', type: 'virtbus.event.agent.online', source: `virtbus://${node}`,
      data: { node, status: 'online', bootId: agent.bootId, libvirtUri: 'test:///default' } });
    const snap = await client.waitFor((m) => m.routingKey === `v1.${node}.agent.${node}.snapshot`, 'snapshot');
    expect(snap.body.data.domains.map((d: { name: string }) => d.name)).toContain('test');
    expect(snap.body.data.reason).toBe('start');
  });

  test('agent.ping, node.info and domain.list', async () => {
    const ping = await client.call(node, 'agent.ping');
    expect(ping).toMatchObject({ type: 'virtbus.reply', source: `virtbus://${node}`, subject: 'virtbus.cmd.agent.ping',
      data: { ok: true, result: { node, bootId: agent.bootId } } });
    const info = await client.call(node, 'node.info');
    expect(info.data.ok).toBe(true);
    expect(info.data.result).toMatchObject({ uri: 'test:///default', hypervisor: { type: 'TEST' }, cpu: { count: expect.any(Number) } });
    const list = await client.call(node, 'domain.list');
    expect(list.data.result.domains).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'test', state: 'running', persistent: true })]));
  });

  test('a domain lifecycle by commands, with events in order and consecutive seq', async () => {
    const name = `e2e-${randomUUID().slice(0, 8)}`;
    const def = await client.call(node, 'domain.define', { xml: domainXml(name) });
    expect(def.data).toMatchObject({ ok: true, result: { name } });
    const uuid = def.data.result.uuid;
    for (const c of ['domain.start', 'domain.suspend', 'domain.resume', 'domain.destroy', 'domain.undefine']) {
      const r = await client.call(node, c, { domain: c === 'domain.suspend' ? uuid : name });
      expect(r.data).toMatchObject({ ok: true, result: { uuid, name } });
    }
    const key = `v1.${node}.domain.${uuid}.lifecycle`;
    await client.waitFor((m) => m.routingKey === key && m.body.data.event === 'undefined', 'undefined event');
    const events = client.received.filter((m) => m.routingKey === key).map((m) => m.body);
    expect(events.map((e) => `${e.data.event}/${e.data.detail}`)).toEqual(['defined/added', 'started/booted',
      'suspended/paused', 'resumed/unpaused', 'stopped/destroyed', 'undefined/removed']);
    const seqs = events.map((e) => e.data.seq);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i));
    expect(events[1]).toMatchObject({ type: 'virtbus.event.domain.lifecycle', subject: uuid, data: { node, domain: { uuid, name }, state: expect.any(String) } });
  });

  describe('bad input gets the right error and the agent keeps serving', () => {
    const raw = async (body: string | Buffer, props: Record<string, unknown> = {}) => {
      const id = randomUUID();
      client.send(node, body, { messageId: id, correlationId: id, replyTo: client.replyQueue, ...props });
      return (await client.replyTo(id, 'error reply')).body;
    };
    afterEach(async () => {
      expect((await client.call(node, 'agent.ping')).data.ok).toBe(true);
    });

    test('malformed JSON', async () => {
      expect((await raw('{"specversion": ')).data.error).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('not valid JSON') });
    });
    test('JSON that is not a CloudEvent', async () => {
      expect((await raw(JSON.stringify({ hello: 'world' }))).data.error).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('CloudEvents') });
    });
    test('unknown command', async () => {
      expect((await client.call(node, 'domain.fly', {})).data.error.code).toBe('UNKNOWN_COMMAND');
    });
    test('schema-invalid arguments', async () => {
      const r = await client.call(node, 'domain.start', { domain: 42, extra: true });
      expect(r.data.error).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('/domain') });
    });
    test('unknown domain', async () => {
      const r = await client.call(node, 'domain.get', { domain: 'no-such-vm' });
      expect(r.data.error).toMatchObject({ code: 'NOT_FOUND', libvirt: { code: 42, name: 'VIR_ERR_NO_DOMAIN' } });
    });
    test('oversized message', async () => {
      const big = JSON.stringify({ specversion: '1.0', id: randomUUID(), source: 't', type: 'virtbus.cmd.agent.ping', data: { pad: 'x'.repeat(70 * 1024) } });
      expect((await raw(big)).data.error).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('exceeds the limit') });
    });
    test('expired deadline', async () => {
      const r = await client.call(node, 'domain.suspend', { domain: 'test' }, { deadline: new Date(Date.now() - 1000).toISOString() });
      expect(r.data.error.code).toBe('EXPIRED');
    });
    test('a command without reply_to is run and reported as a completion event', async () => {
      const id = randomUUID();
      client.send(node, JSON.stringify({ specversion: '1.0', id, source: 't', type: 'virtbus.cmd.agent.ping', data: {} }), { messageId: id });
      const ev = await client.waitFor((m) => m.routingKey === `v1.${node}.command.${id}.completed`, 'completion event');
      expect(ev.body).toMatchObject({ type: 'virtbus.event.command.completed', data: { id, command: 'virtbus.cmd.agent.ping', ok: true, result: { node } } });
    });
    test('differing message_id and correlation_id', async () => {
      const id = randomUUID();
      client.send(node, JSON.stringify({ specversion: '1.0', id, source: 't', type: 'virtbus.cmd.agent.ping' }),
        { messageId: id, correlationId: `${id}-x`, replyTo: client.replyQueue });
      expect((await client.replyTo(`${id}-x`, 'reply')).body.data.error.code).toBe('BAD_REQUEST');
    });
  });

  test('the same command id twice runs once and both get the same result', async () => {
    const id = randomUUID();
    const vol = `idem-${id.slice(0, 8)}.img`;
    const data = { pool: 'default-pool', name: vol, capacityBytes: 1024 * 1024 };
    const env = JSON.stringify({ specversion: '1.0', id, source: 't', type: 'virtbus.cmd.vol.create', data });
    client.send(node, env, { messageId: id, correlationId: id, replyTo: client.replyQueue });
    client.send(node, env, { messageId: id, correlationId: id, replyTo: client.replyQueue });
    const replies = () => client.received.filter((m) => m.exchange === '' && m.properties.correlationId === id);
    await client.waitFor(() => replies().length >= 2, 'two replies');
    const [a, b] = replies().map((m) => m.body);
    client.send(node, env, { messageId: id, correlationId: id, replyTo: client.replyQueue });
    await client.waitFor(() => replies().length >= 3, 'third reply');
    const c = replies()[2].body;
    const outcomes = [a.data, b.data];
    // the duplicate either waited for the first (same result) or arrived while it ran
    expect(outcomes.filter((o) => o.ok)).toHaveLength(outcomes.some((o) => o.error?.code === 'IN_PROGRESS') ? 1 : 2);
    expect(c.data).toEqual(outcomes.find((o) => o.ok));
    const list = await client.call(node, 'vol.list', { pool: 'default-pool' });
    expect(list.data.result.volumes.filter((v: { name: string }) => v.name === vol)).toHaveLength(1);
    await client.call(node, 'vol.delete', { pool: 'default-pool', volume: vol });
  });

  test('planned commands are UNSUPPORTED for now', async () => {
    expect((await client.call(node, 'domain.migrate', { domain: 'test', to: 'x' })).data.error.code).toBe('UNSUPPORTED');
  });

  test('every command of the contract is implemented or marked planned', () => {
    expect(missingHandlers()).toEqual([]);
    expect((Object.keys(COMMANDS) as CommandName[]).filter((c) => !COMMANDS[c].planned).length).toBeGreaterThan(40);
  });
});

describe('read-only agent', () => {
  const node = testNode('ro');
  let agent: Agent;
  let client: TestClient;

  beforeAll(async () => {
    client = await TestClient.connect();
    agent = await startAgent({ node, readOnly: true });
  });
  afterAll(async () => {
    await agent?.close();
    await client?.close();
    await deleteNodeQueues(node);
  });

  test('refuses every mutating command with FORBIDDEN and changes nothing', async () => {
    const mutating = (Object.keys(COMMANDS) as CommandName[]).filter((c) => COMMANDS[c].mutating && !COMMANDS[c].planned);
    expect(mutating.length).toBeGreaterThan(20);
    for (const c of mutating) {
      const r = await client.call(node, c, { domain: 'test', pool: 'default-pool', network: 'default', xml: '<x/>' });
      expect([c, r.data.error?.code]).toEqual([c, 'FORBIDDEN']);
    }
    const state = await client.call(node, 'domain.get', { domain: 'test' });
    expect(state.data.result.state).toBe('running');
    expect((await client.call(node, 'domain.list')).data.ok).toBe(true);
  });
});

describe('protobuf over RabbitMQ', () => {
  const node = testNode('pb');
  let agent: Agent;
  let client: TestClient;

  beforeAll(async () => {
    client = await TestClient.connect();
    agent = await startAgent({ node });
  });
  afterAll(async () => {
    await agent?.close();
    await client?.close();
    await deleteNodeQueues(node);
  });

  test('a command sent as protobuf is answered as protobuf', async () => {
    const id = randomUUID();
    const body = encodeProtobufEnvelope({ specversion: '1.0', id, source: 't', type: 'virtbus.cmd.domain.get', data: { domain: 'test' } });
    client.send(node, body, { contentType: CE_PROTOBUF, messageId: id, correlationId: id, replyTo: client.replyQueue });
    const r = await client.replyTo(id, 'protobuf reply');
    expect(r.properties.contentType).toBe(CE_PROTOBUF);
    const env = decodeProtobufEnvelope(Buffer.from(r.body as string, 'binary'));
    expect(env).toMatchObject({ type: 'virtbus.reply', subject: 'virtbus.cmd.domain.get', data: { ok: true, result: { name: 'test', state: 'running' } } });
  });

  test('malformed protobuf gets BAD_REQUEST, as protobuf, and the agent keeps serving', async () => {
    const id = randomUUID();
    client.send(node, Buffer.from([0x0a, 0xff, 0xff, 0x01, 0x02]), { contentType: CE_PROTOBUF, messageId: id, correlationId: id, replyTo: client.replyQueue });
    const r = await client.replyTo(id, 'error reply');
    const env = decodeProtobufEnvelope(Buffer.from(r.body as string, 'binary'));
    expect(env.data).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect((await client.call(node, 'agent.ping')).data.ok).toBe(true);
  });
});
