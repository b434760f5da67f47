// The agent end to end on libvirt's test driver, the same suite over every
// transport: RabbitMQ (AMQP 0-9-1), Mosquitto (MQTT 5 and 3.1.1) and
// RabbitMQ's MQTT plugin (3.1.1), each driven by a plain client.
import { randomUUID } from 'node:crypto';
import type { Agent } from '../../src/agent/agent';
import { COMMANDS, type CommandName } from '../../src/contract/commands';
import { CE_PROTOBUF } from '../../src/contract/envelope';
import { decodeProtobufEnvelope, encodeProtobufEnvelope } from '../../src/codec/protobuf';
import { startAgent, testNode } from '../helpers/agent';
import { E2E_CASES, type E2EClient } from '../helpers/e2e';

const domainXml = (name: string) =>
  `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`;
const env = (command: string, data: unknown, id = randomUUID()) => ({
  specversion: '1.0',
  id,
  source: 'test-orchestrator',
  type: `virtbus.cmd.${command}`,
  time: new Date().toISOString(),
  data,
});

describe.each(E2E_CASES)('agent over $name', (bus) => {
  const node = testNode('e2e');
  let agent: Agent;
  let client: E2EClient;

  beforeAll(async () => {
    await bus.setup();
    client = await bus.client();
    await client.watchNode(node);
    agent = await startAgent({ node, transport: bus.transport(node), maxMessageBytes: 64 * 1024 });
  });
  afterAll(async () => {
    await agent?.close();
    await client?.close();
    await bus.cleanup(node);
  });

  test('publishes presence and a snapshot at start', async () => {
    const online = await client.waitEvent((e) => e.address === `agent.${node}.online`, 'online');
    expect(online.body).toMatchObject({
      type: 'virtbus.event.agent.online',
      source: `virtbus://${node}`,
      data: { node, status: 'online', bootId: agent.bootId },
    });
    const snap = await client.waitEvent((e) => e.address === `agent.${node}.snapshot`, 'snapshot');
    expect(snap.body.data.domains.map((d: { name: string }) => d.name)).toContain('test');
  });

  test('agent.ping, node.info and domain.list', async () => {
    expect((await client.call(node, 'agent.ping')).data).toMatchObject({
      ok: true,
      result: { node, bootId: agent.bootId },
    });
    expect((await client.call(node, 'node.info')).data.result).toMatchObject({
      uri: 'test:///default',
      hypervisor: { type: 'TEST' },
    });
    const list = await client.call(node, 'domain.list');
    expect(list).toMatchObject({ type: 'virtbus.reply', subject: 'virtbus.cmd.domain.list' });
    expect(list.data.result.domains).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'test', state: 'running' })]),
    );
  });

  test('a domain lifecycle by commands, with its events in order and consecutive seq', async () => {
    const name = `e2e-${randomUUID().slice(0, 8)}`;
    const def = await client.call(node, 'domain.define', { xml: domainXml(name) });
    expect(def.data).toMatchObject({ ok: true, result: { name } });
    const uuid = def.data.result.uuid;
    for (const c of ['domain.start', 'domain.suspend', 'domain.resume', 'domain.destroy', 'domain.undefine']) {
      expect((await client.call(node, c, { domain: c === 'domain.suspend' ? uuid : name })).data).toMatchObject({
        ok: true,
        result: { uuid, name },
      });
    }
    await client.waitEvent(
      (e) => e.address === `domain.${uuid}.lifecycle` && e.body.data.event === 'undefined',
      'undefined event',
    );
    const events = client.events.filter((e) => e.address === `domain.${uuid}.lifecycle`).map((e) => e.body);
    expect(events.map((e) => `${e.data.event}/${e.data.detail}`)).toEqual([
      'defined/added',
      'started/booted',
      'suspended/paused',
      'resumed/unpaused',
      'stopped/destroyed',
      'undefined/removed',
    ]);
    const seqs = events.map((e) => e.data.seq);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i));
    expect(events[1]).toMatchObject({
      type: 'virtbus.event.domain.lifecycle',
      subject: uuid,
      data: { node, domain: { uuid, name }, state: expect.any(String) },
    });
  });

  describe('bad input gets the right error and the agent keeps serving', () => {
    afterEach(async () => {
      expect((await client.call(node, 'agent.ping')).data.ok).toBe(true);
    });

    test('malformed JSON', async () => {
      expect((await client.sendRaw(node, '{"specversion": ')).data.error).toMatchObject({
        code: 'BAD_REQUEST',
        message: expect.stringContaining('not valid JSON'),
      });
    });
    test('JSON that is not a CloudEvent', async () => {
      expect((await client.sendRaw(node, JSON.stringify({ hello: 'world' }))).data.error).toMatchObject({
        code: 'BAD_REQUEST',
        message: expect.stringContaining('CloudEvents'),
      });
    });
    test('unknown command', async () => {
      expect((await client.call(node, 'domain.fly', {})).data.error.code).toBe('UNKNOWN_COMMAND');
    });
    test('schema-invalid arguments', async () => {
      expect((await client.call(node, 'domain.start', { domain: 42, extra: true })).data.error).toMatchObject({
        code: 'BAD_REQUEST',
        message: expect.stringContaining('/domain'),
      });
    });
    test('unknown domain', async () => {
      expect((await client.call(node, 'domain.get', { domain: 'no-such-vm' })).data.error).toMatchObject({
        code: 'NOT_FOUND',
        libvirt: { code: 42, name: 'VIR_ERR_NO_DOMAIN' },
      });
    });
    test('oversized message', async () => {
      const big = JSON.stringify(env('agent.ping', { pad: 'x'.repeat(70 * 1024) }));
      expect((await client.sendRaw(node, big)).data.error).toMatchObject({
        code: 'BAD_REQUEST',
        message: expect.stringContaining('exceeds the limit'),
      });
    });
    test('expired deadline', async () => {
      expect(
        (
          await client.call(
            node,
            'domain.suspend',
            { domain: 'test' },
            { deadline: new Date(Date.now() - 1000).toISOString() },
          )
        ).data.error.code,
      ).toBe('EXPIRED');
    });
    test('a command without a reply address is run and reported as a completion event', async () => {
      const e = env('agent.ping', {});
      client.sendNoReply(node, e);
      const ev = await client.waitEvent((x) => x.address === `command.${e.id}.completed`, 'completion event');
      expect(ev.body).toMatchObject({
        type: 'virtbus.event.command.completed',
        data: { id: e.id, command: 'virtbus.cmd.agent.ping', ok: true, result: { node } },
      });
    });
  });

  test('the same command id twice runs once and both get the same result', async () => {
    const vol = `idem-${randomUUID().slice(0, 8)}.img`;
    const e = env('vol.create', { pool: 'default-pool', name: vol, capacityBytes: 1024 * 1024 });
    try {
      const [a, b] = await client.sendTwice(node, e);
      const outcomes = [a.data, b.data];
      expect(outcomes.filter((o) => o.ok)).toHaveLength(outcomes.some((o) => o.error?.code === 'IN_PROGRESS') ? 1 : 2);
      const again = await client.call(node, 'vol.create', e.data, { id: e.id });
      expect(again.data).toEqual(outcomes.find((o) => o.ok));
      const list = await client.call(node, 'vol.list', { pool: 'default-pool' });
      expect(list.data.result.volumes.filter((v: { name: string }) => v.name === vol)).toHaveLength(1);
    } finally {
      await client.call(node, 'vol.delete', { pool: 'default-pool', volume: vol });
    }
  });

  // protobuf needs a content type on the wire: AMQP and MQTT 5 carry one, 3.1.1 cannot
  if (bus.contentType)
    describe('protobuf', () => {
      test('a command sent as protobuf is answered as protobuf', async () => {
        const body = encodeProtobufEnvelope({
          specversion: '1.0',
          id: randomUUID(),
          source: 't',
          type: 'virtbus.cmd.domain.get',
          data: { domain: 'test' },
        });
        const r = await client.sendRaw(node, body, { contentType: CE_PROTOBUF });
        const decoded =
          typeof r === 'string' || Buffer.isBuffer(r) ? decodeProtobufEnvelope(Buffer.from(r as string, 'binary')) : r;
        expect(decoded).toMatchObject({ type: 'virtbus.reply', data: { ok: true, result: { name: 'test' } } });
      });
      test('malformed protobuf gets BAD_REQUEST', async () => {
        const r = await client.sendRaw(node, Buffer.from([0x0a, 0xff, 0xff, 0x01, 0x02]), { contentType: CE_PROTOBUF });
        const decoded =
          typeof r === 'string' || Buffer.isBuffer(r) ? decodeProtobufEnvelope(Buffer.from(r as string, 'binary')) : r;
        expect(decoded.data).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
      });
    });
});

describe.each(E2E_CASES.filter((c) => c.name.startsWith('RabbitMQ AMQP') || c.name === 'Mosquitto MQTT 5'))(
  'read-only agent over $name',
  (bus) => {
    const node = testNode('ro');
    let agent: Agent;
    let client: E2EClient;
    beforeAll(async () => {
      await bus.setup();
      client = await bus.client();
      agent = await startAgent({ node, transport: bus.transport(node), readOnly: true });
    });
    afterAll(async () => {
      await agent?.close();
      await client?.close();
      await bus.cleanup(node);
    });

    test('refuses every mutating command with FORBIDDEN and changes nothing', async () => {
      const mutating = (Object.keys(COMMANDS) as CommandName[]).filter(
        (c) => COMMANDS[c].mutating && !COMMANDS[c].planned,
      );
      expect(mutating.length).toBeGreaterThan(20);
      for (const c of mutating) {
        const r = await client.call(node, c, { domain: 'test', pool: 'default-pool', network: 'default', xml: '<x/>' });
        expect([c, r.data.error?.code]).toEqual([c, 'FORBIDDEN']);
      }
      expect((await client.call(node, 'domain.get', { domain: 'test' })).data.result.state).toBe('running');
    });
  },
);
