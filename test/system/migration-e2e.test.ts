// An orchestrator moves a running guest between the lab's two libvirt nodes
// with one command to the source node's queue over RabbitMQ; the agents run
// their jobs on BullMQ/Redis. Also: cancel, an unreachable destination, a
// duplicate command id. Each test boots its own guest; afterwards its jobs are
// cancelled, libvirt's job aborted and the guest removed from both nodes, even
// when the test failed mid-migration.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Agent } from '../../src/agent/agent';
import { PeerDirectory } from '../../src/agent/peers';
import { AmqpTransport } from '../../src/bus/amqp';
import { createLogger } from '../../src/log';
import type { Connection } from '../../src/libvirt';
import { AMQP_URL, TestClient, deleteNodeQueues, settleAgentJobs, type Received } from '../helpers/amqp-client';
import { REDIS_URL, startAgent, testNode } from '../helpers/agent';
import { cleanupAll } from '../helpers/cleanup';
import { eventually } from '../helpers/events';
import {
  NODE1_URI,
  NODE2_MIGRATE_URI,
  NODE2_URI,
  abortGuestJobs,
  guestXml,
  labUniq,
  openNode,
  removeGuest,
  waitGuestReady,
} from '../helpers/lab';
import { deleteNodeKeys } from '../helpers/redis';
import { metricValue } from '../helpers/metrics';
import { createRegistry } from '../../src/metrics/registry';
import { agentMetrics } from '../../src/metrics/agent-metrics';
import { startOpsServer, type OpsServer } from '../../src/ops/http-server';
import type { Registry } from 'prom-client';
import { connect, VirtbusError } from '../../src/client';

describe('domain.migrate between two agents', () => {
  const src = testNode('src');
  const dst = testNode('dst');
  const prefix = `virtbus-test-${process.pid}`;
  const saveDir = mkdtempSync(join(tmpdir(), 'virtbus-migsave-'));
  let a1: Agent;
  let a2: Agent;
  let peers: PeerDirectory | undefined;
  let client: TestClient;
  /** the source agent's metrics, as its /metrics would serve them */
  let register: Registry;
  let unfollow: (() => void) | undefined;
  /** the source agent's /metrics, served as agent/main.ts serves it */
  let ops: OpsServer | undefined;
  const scrape = async () => {
    const r = await fetch(`${ops!.url}/metrics`);
    if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
    return r.text();
  };
  let n1: Connection;
  let n2: Connection;
  const guests: string[] = [];

  const jobs = (node: string) => ({
    backend: { type: 'redis' as const, node, redis: REDIS_URL, prefix },
    saveDir,
    progressIntervalMs: 300,
  });

  beforeAll(async () => {
    n1 = await openNode(NODE1_URI);
    n2 = await openNode(NODE2_URI);
    client = await TestClient.connect();
    await client.bindEvents(`v1.${src}.#`);
    await client.bindEvents(`v1.${dst}.#`);
    a2 = await startAgent({
      node: dst,
      libvirtUri: NODE2_URI,
      advertiseMigrateUri: NODE2_MIGRATE_URI,
      jobs: jobs(dst),
      heartbeatS: 1,
    });
    const t1 = new AmqpTransport({ endpoint: AMQP_URL, nodeId: src });
    peers = new PeerDirectory({ transport: t1, self: src, log: createLogger('silent') });
    a1 = await startAgent({ node: src, libvirtUri: NODE1_URI, jobs: jobs(src), peers, transport: t1, heartbeatS: 1 });
    await eventually(async () => peers!.resolve(dst), `presence of ${dst} seen by ${src}`, 10000);
    register = createRegistry();
    unfollow = agentMetrics(register, { agent: a1, transport: t1, jobs: a1.jobs!, version: 'test' });
    ops = await startOpsServer({
      listen: '127.0.0.1:0',
      metrics: async () => ({ body: await register.metrics(), contentType: register.contentType }),
      readiness: () => ({ ...a1.readiness() }),
    });
  });

  afterEach(() =>
    cleanupAll([
      // the agent's job first (a cancel aborts libvirt's migration), then libvirt directly, then the guests
      ["cancel the source agent's jobs", () => client && a1 && settleAgentJobs(client, src)],
      ...guests.map((g): [string, () => Promise<void>] => [
        `abort the libvirt jobs of ${g}`,
        () => abortGuestJobs(n1, g),
      ]),
      ['wait until the source agent runs no job', () => client && a1 && settleAgentJobs(client, src)],
      ...guests
        .splice(0)
        .map((g): [string, () => Promise<void>] => [
          `remove ${g} from both nodes`,
          () => removeGuest(g, { node1: n1, node2: n2 }),
        ]),
    ]),
  );

  afterAll(() =>
    cleanupAll([
      ['stop following the source agent', async () => unfollow?.()],
      ['stop serving its metrics', async () => ops?.close()],
      ['close the source agent', () => a1?.close()],
      ['close the destination agent', () => a2?.close()],
      ['close the client', () => client?.close()],
      [
        'delete the queues',
        async () => {
          await deleteNodeQueues(src);
          await deleteNodeQueues(dst);
        },
      ],
      [
        'delete the Redis keys',
        async () => {
          await deleteNodeKeys(src, prefix);
          await deleteNodeKeys(dst, prefix);
        },
      ],
      ['remove the save directory', () => rmSync(saveDir, { recursive: true, force: true })],
      ['close node 1', () => n1?.close()],
      ['close node 2', () => n2?.close()],
    ]),
  );

  async function bootGuest(): Promise<string> {
    const name = labUniq('mig');
    guests.push(name);
    await n1.createDomain(guestXml(name));
    await waitGuestReady(name);
    return name;
  }
  const lifecycle = (node: string, name: string) =>
    client.received
      .filter(
        (m) =>
          m.routingKey.startsWith(`v1.${node}.domain.`) &&
          m.body?.data?.domain?.name === name &&
          m.body.type === 'virtbus.event.domain.lifecycle',
      )
      .map((m) => `${m.body.data.event}/${m.body.data.detail}`);
  const jobEvents = (id: string) =>
    client.received.filter((m) => m.routingKey.startsWith(`v1.${src}.job.${id}.`)).map((m: Received) => m.body);

  test('moves a running guest to the other node, with progress, events on both nodes and the final result', async () => {
    const name = await bootGuest();
    const id = randomUUID();
    const migrationsBefore = metricValue(await scrape(), 'virtbus_migrations_total', {
      outcome: 'succeeded',
    });
    // scrapes while it runs: the job shows in virtbus_jobs_running
    let running = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        running = Math.max(running, metricValue(await scrape(), 'virtbus_jobs_running', { kind: 'migrate' }));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const reply = await client.call(src, 'domain.migrate', { domain: name, to: dst }, { id, timeoutMs: 120000 });
    sampling = false;
    await sampler;
    expect(reply.data).toMatchObject({
      ok: true,
      result: { name, node: dst, downtimeMs: expect.any(Number), totalMs: expect.any(Number) },
    });
    const after = await scrape();
    expect(running).toBe(1);
    expect(metricValue(after, 'virtbus_jobs_running', { kind: 'migrate' })).toBe(0);
    expect(metricValue(after, 'virtbus_migrations_total', { outcome: 'succeeded' }) - migrationsBefore).toBe(1);
    expect(
      metricValue(after, 'virtbus_commands_total', { command: 'domain.migrate', code: 'ACCEPTED' }),
    ).toBeGreaterThanOrEqual(1);
    expect(jobEvents(id).map((e) => e.type)).toEqual(
      expect.arrayContaining([
        'virtbus.event.job.started',
        'virtbus.event.job.progress',
        'virtbus.event.job.completed',
      ]),
    );
    expect(jobEvents(id).find((e) => e.type === 'virtbus.event.job.progress').data.progress).toHaveProperty('phase');

    await client.waitFor(
      (m) =>
        m.routingKey.startsWith(`v1.${dst}.domain.`) &&
        m.body?.data?.event === 'resumed' &&
        m.body.data.domain.name === name,
      'resumed on node 2',
      20000,
    );
    await client.waitFor(
      (m) =>
        m.routingKey.startsWith(`v1.${src}.domain.`) &&
        m.body?.data?.event === 'stopped' &&
        m.body.data.domain.name === name,
      'stopped on node 1',
      20000,
    );
    expect(lifecycle(src, name)).toEqual(expect.arrayContaining(['suspended/migrated', 'stopped/migrated']));
    expect(lifecycle(dst, name)).toEqual(expect.arrayContaining(['started/migrated', 'resumed/migrated']));
    expect((await client.call(dst, 'domain.get', { domain: name })).data.result.state).toBe('running');
    expect((await client.call(src, 'domain.get', { domain: name })).data.error.code).toBe('NOT_FOUND');

    // the same command id again: answered from the record, no second migration
    const again = await client.call(src, 'domain.migrate', { domain: name, to: dst }, { id });
    expect(again.data).toEqual(reply.data);
    expect((await client.call(src, 'job.get', { id })).data.result).toMatchObject({
      id,
      state: 'succeeded',
      command: 'domain.migrate',
    });
  });

  test('the SDK follows a slow migration as a Job: progress reports, a second handle by id, cancel', async () => {
    const name = await bootGuest();
    const v = await connect({ bus: AMQP_URL, node: src });
    try {
      const job = await v.call('domain.migrate', { domain: name, to: dst, bandwidthMiBs: 1 });
      const reports: Array<{ phase?: string; dataProcessed?: number }> = [];
      for await (const p of job.progress) {
        reports.push(p.progress as { phase?: string; dataProcessed?: number });
        if (reports.length === 3) break; // the iteration may stop early; the job goes on
      }
      if (reports.length < 3) {
        // the job ended early: say how, not just how many reports came
        const ended = await job.result.then(
          (r) => `it succeeded: ${JSON.stringify(r)}`,
          (e: VirtbusError) => `it failed: ${e.code} ${e.message}`,
        );
        throw new Error(
          `only ${reports.length} progress report(s) of the slow migration before the job ended; ${ended}`,
        );
      }
      expect(reports[0]).toHaveProperty('phase');
      expect(reports[2].dataProcessed).toBeGreaterThanOrEqual(reports[0].dataProcessed ?? 0);
      const follower = await v.job(job.id);
      expect(follower.command).toBe('domain.migrate');
      await job.cancel();
      const [mine, theirs] = await Promise.allSettled([job.result, follower.result]);
      for (const r of [mine, theirs]) {
        expect(r.status).toBe('rejected');
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(VirtbusError);
        expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'CANCELLED', id: job.id });
      }
      expect((await n1.domain(name)).name).toBe(name); // still on node 1
    } finally {
      await v.close();
    }
  });

  test('job.cancel stops a slow migration: CANCELLED, guest still on node 1, nothing on node 2', async () => {
    const name = await bootGuest();
    const id = randomUUID();
    client.send(
      src,
      JSON.stringify({
        specversion: '1.0',
        id,
        source: 't',
        type: 'virtbus.cmd.domain.migrate',
        data: { domain: name, to: dst, bandwidthMiBs: 1 },
      }),
      { messageId: id, correlationId: id, replyTo: client.replyQueue },
    );
    await client.waitFor(
      (m) => m.routingKey === `v1.${src}.job.${id}.progress`,
      'progress of the slow migration',
      20000,
    );
    // a duplicate while it runs waits for the job: both callers get its final reply
    const from = client.received.length;
    client.send(
      src,
      JSON.stringify({
        specversion: '1.0',
        id,
        source: 't',
        type: 'virtbus.cmd.domain.migrate',
        data: { domain: name, to: dst, bandwidthMiBs: 1 },
      }),
      { messageId: id, correlationId: id, replyTo: client.replyQueue },
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(
      client.received.slice(from).filter((m) => m.exchange === '' && m.properties.correlationId === id),
    ).toHaveLength(0);
    const cancel = await client.call(src, 'job.cancel', { id });
    expect(cancel.data).toMatchObject({ ok: true, result: { id } });
    await client.waitFor(
      () =>
        client.received.filter(
          (m) => m.exchange === '' && m.properties.correlationId === id && m.body?.data?.error?.code === 'CANCELLED',
        ).length >= 2,
      'the CANCELLED reply, to the first caller and the duplicate',
      60000,
    );
    const final = client.received.find(
      (m) => m.exchange === '' && m.properties.correlationId === id && m.body?.data?.error?.code === 'CANCELLED',
    )!;
    expect(final.body.data.error.message).toContain('still running on the source');
    expect((await (await n1.domain(name)).state()).state).toBe('running');
    await expect(n2.domain(name)).rejects.toMatchObject({ codeName: 'VIR_ERR_NO_DOMAIN' });
  });

  test('an unreachable destination fails clearly and the guest keeps running on the source', async () => {
    const name = await bootGuest();
    const r = await client.call(
      src,
      'domain.migrate',
      { domain: name, destination: { uri: 'qemu+tcp://127.0.0.3/system' } },
      { timeoutMs: 60000 },
    );
    expect(r.data.ok).toBe(false);
    expect(r.data.error.message).toMatch(/127\.0\.0\.3/);
    expect(r.data.error.message).toContain('still running on the source');
    expect((await (await n1.domain(name)).state()).state).toBe('running');
  });

  test('migrate to a node nobody has seen is NOT_FOUND', async () => {
    expect((await client.call(src, 'domain.migrate', { domain: 'x', to: 'no-such-node' })).data.error.code).toBe(
      'NOT_FOUND',
    );
  });
});
