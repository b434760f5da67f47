// The typed SDK end to end against a real agent, over RabbitMQ (AMQP) and
// Mosquitto (MQTT 5): typed calls and results, VirtbusError with the
// contract code and libvirt block, a local TIMEOUT, long-running commands as
// Job handles (result, progress, re-attach by id), events as an async
// iterator (filters, de-duplication, abort), fleet calls and the fleet list.
import type { Agent } from '../../src/agent/agent';
import { connect, VirtbusError, type Virtbus, type VirtbusEvent } from '../../src/client';
import { SeenIds, SeqTracker, parseEvent } from '../../src/client/events';
import { MqttTransport } from '../../src/bus/mqtt';
import { AmqpTransport } from '../../src/bus/amqp';
import type { Transport } from '../../src/bus/transport';
import { AMQP_URL, deleteNodeQueues } from '../helpers/amqp-client';
import { startAgent, testNode } from '../helpers/agent';
import { MOSQUITTO_V5, forgetAgent } from '../helpers/mqtt';

interface Case {
  name: string;
  url: () => Promise<string>;
  transport: (url: string, node: string) => Transport;
  cleanup: (url: string, node: string) => Promise<void>;
}

const CASES: Case[] = [
  {
    name: 'RabbitMQ AMQP 0-9-1',
    url: async () => AMQP_URL,
    transport: (url, node) => new AmqpTransport({ endpoint: url, nodeId: node }),
    cleanup: (_url, node) => deleteNodeQueues(node),
  },
  {
    name: 'Mosquitto MQTT 5',
    url: () => MOSQUITTO_V5.setup(),
    transport: (url, node) => new MqttTransport({ endpoint: url, nodeId: node, protocolVersion: 5 }),
    cleanup: (url, node) => forgetAgent(url, 5, node),
  },
];

describe.each(CASES)('the SDK over $name', (c) => {
  const node = testNode('sdk');
  let url: string;
  let agent: Agent | undefined;
  let v: Virtbus | undefined;

  beforeAll(async () => {
    url = await c.url();
    agent = await startAgent({ node, transport: c.transport(url, node), heartbeatS: 1 });
    v = await connect({ bus: url, node, timeoutMs: 10_000 });
  });
  afterAll(async () => {
    await v?.close();
    await agent?.close();
    await c.cleanup(url, node);
  });

  test('typed calls: data and result as the contract says; a command without data', async () => {
    const dom = await v!.call('domain.get', { domain: 'test' });
    expect(dom).toMatchObject({ name: 'test', uuid: expect.any(String), state: expect.any(String) });
    const info = await v!.call('node.info');
    expect(info).toMatchObject({ uri: 'test:///default' });
    const list = await v!.call('domain.list', { state: 'all' });
    expect(list.domains.map((d) => d.name)).toContain('test');
  });

  test('an error reply is a VirtbusError with the contract code and the libvirt block', async () => {
    const e = await v!.call('domain.get', { domain: 'no-such-vm' }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(VirtbusError);
    expect(e).toMatchObject({
      code: 'NOT_FOUND',
      command: 'domain.get',
      local: false,
      libvirt: { name: 'VIR_ERR_NO_DOMAIN' },
      id: expect.any(String),
    });
    expect((e as Error).message).toMatch(/^domain\.get: NOT_FOUND: .*\(libvirt VIR_ERR_NO_DOMAIN\)$/);
    // the agent's own checks too: a schema violation sent through the untyped client
    const bad = await v!.client.call('domain.get', { domain: 42 });
    expect(bad).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
  });

  test('no reply in time is a local TIMEOUT', async () => {
    const e = await v!
      .call('node.info', {}, { node: `${node}-nobody`, timeoutMs: 500 })
      .catch((err: unknown) => err as VirtbusError);
    expect(e).toBeInstanceOf(VirtbusError);
    expect(e).toMatchObject({ code: 'TIMEOUT', local: true });
  });

  test('a long-running command is a Job: its id, its typed result; the same job followed again by id', async () => {
    const job = await v!.call('domain.save', { domain: 'test', path: `sdk-${node}.img` });
    expect(job.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(job.command).toBe('domain.save');
    const progress: unknown[] = [];
    for await (const p of job.progress) progress.push(p); // ends when the job does
    const saved = await job.result;
    expect(saved).toMatchObject({ name: 'test', path: expect.stringContaining(`sdk-${node}.img`) });
    const again = await v!.job(job.id);
    expect(again.command).toBe('domain.save');
    expect(await again.result).toEqual(saved);
    // and back
    const restore = await v!.call('domain.restore', { path: `sdk-${node}.img` });
    expect(await restore.result).toMatchObject({ name: 'test', state: 'running' });
    // a job that fails rejects its result with the error
    const failing = await v!.call('domain.restore', { path: `missing-${node}.img` });
    await expect(failing.result).rejects.toBeInstanceOf(VirtbusError);
  });

  test('events: filtered by object, domain and event, de-duplicated, ended by an AbortSignal', async () => {
    const abort = new AbortController();
    const stream = v!.events({ object: 'domain', domain: 'test', event: 'lifecycle', signal: abort.signal });
    await stream.ready;
    await v!.call('domain.suspend', { domain: 'test' });
    await v!.call('domain.resume', { domain: 'test' });
    const seen: VirtbusEvent[] = [];
    for await (const e of stream) {
      seen.push(e);
      if (seen.length === 2) abort.abort();
    }
    expect(seen.map((e) => [e.object, e.name, e.data.event, (e.data.domain as { name: string }).name])).toEqual([
      ['domain', 'lifecycle', 'suspended', 'test'],
      ['domain', 'lifecycle', 'resumed', 'test'],
    ]);
    expect(seen[1].data.seq).toBe((seen[0].data.seq as number) + 1);
    expect(seen.every((e) => e.gap === undefined && e.node === node)).toBe(true);
    // nothing more after the abort
    expect((await stream.next()).done).toBe(true);
  });

  test('fleet calls and the fleet list from presence', async () => {
    const outcomes = await v!.fleetCall('domain.list', {}, { nodes: [node, `${node}-gone`], timeoutMs: 2000 });
    expect(outcomes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ node, outcome: 'ok' }),
        { node: `${node}-gone`, outcome: 'no-reply' },
      ]),
    );
    const nodes = await v!.nodes();
    // (the bare MQTT transport's retained status has no bootId: agent/main.ts gives it the agent's)
    expect(nodes.find((n) => n.node === node)).toMatchObject({
      status: 'online',
      ...(c.name.startsWith('RabbitMQ') && { bootId: agent!.bootId }),
    });
  });
});

describe('event stream bookkeeping', () => {
  const ce = (id: string, type: string, data: Record<string, unknown>) =>
    parseEvent({ specversion: '1.0', id, source: 'virtbus://n1', type, data })!;
  const lifecycle = (id: string, seq: number) =>
    ce(id, 'virtbus.event.domain.lifecycle', { domain: { uuid: 'u1', name: 'vm1' }, seq, event: 'started' });

  test('a seq jump is a gap; a snapshot sets the starting point; a new bootId is a restart', () => {
    const t = new SeqTracker();
    expect(t.observe(ce('o', 'virtbus.event.agent.online', { bootId: 'b1' }))).toEqual({});
    expect(
      t.observe(ce('s', 'virtbus.event.agent.snapshot', { bootId: 'b1', domains: [{ uuid: 'u1', seq: 4 }] })),
    ).toEqual({});
    expect(t.observe(lifecycle('e5', 5))).toEqual({});
    expect(t.observe(lifecycle('e8', 8))).toEqual({ gap: { domain: 'u1', expected: 6, got: 8 } });
    expect(t.observe(lifecycle('e9', 9))).toEqual({});
    expect(t.observe(ce('o2', 'virtbus.event.agent.online', { bootId: 'b2' }))).toEqual({
      restarted: { node: 'n1', bootId: 'b2' },
    });
    // a new run numbers from 1 again: no gap
    expect(t.observe(lifecycle('f1', 1))).toEqual({});
    expect(t.observe(lifecycle('f2', 2))).toEqual({});
  });

  test('ids are remembered within a bound', () => {
    const s = new SeenIds(3);
    expect(['a', 'b', 'a', 'c', 'd', 'a'].map((id) => s.first(id))).toEqual([true, true, false, true, true, true]);
  });
});
