// Records contracts/examples/ on libvirt's test driver: runs every sample
// command through the real dispatcher, keeps the real replies and the events
// they caused. `npm run gen` (or `npm run gen -- examples`).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { CommandDispatcher, isDeferred } from '../../src/commands/dispatcher';
import { LocalJobBackend } from '../../src/jobs';
import { jobRunners, kindConcurrency } from '../../src/jobs/kinds';
import type { ReplyData } from '../../src/contract/events';
import { mapLibvirtEvent, eventType } from '../../src/events/mapping';
import { Connection, type LibvirtEvent } from '../../src/libvirt';
import { encodeProtobufEnvelope } from '../../src/codec/protobuf';
import { REPLY_TYPE, type CloudEvent } from '../../src/contract/envelope';
import { EXAMPLE_NODE, EXAMPLE_TIME, SAMPLE_COMMANDS, type Example } from './examples';

async function record(): Promise<Example[]> {
  const conn = await Connection.open('test:///default');
  const events: LibvirtEvent[] = [];
  conn.on('event', (e) => events.push(e));
  await conn.subscribeEvents();
  // a volume for domain.attachDisk
  await (
    await conn.storagePool('default-pool')
  ).createVolume("<volume><name>data.img</name><capacity unit='MiB'>64</capacity></volume>");
  const agent = {
    node: EXAMPLE_NODE,
    bootId: '0b9c6c1e-3f1d-4c55-9a57-2f1f6f0e8a11',
    version: '0.1.0',
    status: () => ({
      node: EXAMPLE_NODE,
      bootId: '0b9c6c1e-3f1d-4c55-9a57-2f1f6f0e8a11',
      version: '0.1.0',
      uptimeS: 42,
      readOnly: false,
      libvirt: { uri: 'qemu:///system', connected: true },
      bus: { kind: 'amqp', connected: true },
      commands: { inFlight: 0, completed: 17, failed: 1 },
      events: { published: 230 },
    }),
  };
  // long-running commands run as real jobs (local backend) on the test driver
  const saveDir = '/tmp/virtbus-examples/save';
  mkdirSync(saveDir, { recursive: true });
  const runners = jobRunners({ connection: () => conn, saveDir, pollIntervalMs: 100 });
  const jobs = new LocalJobBackend({
    stateDir: mkdtempSync(join(tmpdir(), 'virtbus-examples-')),
    runners,
    bootId: agent.bootId,
    concurrency: kindConcurrency(),
  });
  await jobs.start();
  const dispatcher = new CommandDispatcher({ connection: () => conn, agent, jobs });
  const out: Example[] = [];
  for (const [cmd, data] of SAMPLE_COMMANDS) {
    const id = `c-${cmd}`;
    const command: CloudEvent = {
      specversion: '1.0',
      id,
      source: 'orchestrator-1',
      type: `virtbus.cmd.${cmd}`,
      time: EXAMPLE_TIME,
      data,
    };
    const outcome = await dispatcher.execute({ id, name: cmd, data });
    let reply = outcome as ReplyData;
    if (isDeferred(outcome)) {
      for (let r = await jobs.get(id); !r?.reply; r = await jobs.get(id))
        await new Promise((res) => setTimeout(res, 50));
      reply = (await jobs.get(id))!.reply!;
    }
    out.push({ name: `command.${cmd}`, kind: 'command', envelope: command });
    out.push({
      name: `reply.${cmd}`,
      kind: 'reply',
      envelope: {
        specversion: '1.0',
        id: `r-${cmd}`,
        source: `virtbus://${EXAMPLE_NODE}`,
        type: REPLY_TYPE,
        subject: command.type,
        time: EXAMPLE_TIME,
        data: reply,
      },
    });
  }
  await new Promise((r) => setTimeout(r, 200));
  // what the test driver cannot emit: a disk unplug as the qemu driver reports it
  events.push({
    type: 'device-removed',
    domain: { name: 'vm1', uuid: '57792cb3-c47a-45f7-b90c-493bccae9bef', id: 2 },
    devAlias: 'virtio-disk1',
  });
  const seen = new Set<string>();
  let seq = 0;
  for (const e of events) {
    const ce = mapLibvirtEvent(EXAMPLE_NODE, e, new Date(EXAMPLE_TIME));
    const key =
      ce.object === 'domain' && ce.event === 'lifecycle'
        ? `lifecycle.${String(ce.data.event)}`
        : `${ce.object}.${ce.event}.${String(ce.data.event)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (ce.object === 'domain') {
      ce.data.seq = ++seq;
      ce.data.state = 'running';
    }
    out.push({
      name: `event.${ce.object}.${ce.event}.${String(ce.data.event)}`,
      kind: 'event',
      envelope: {
        specversion: '1.0',
        id: `e-${out.length}`,
        source: `virtbus://${EXAMPLE_NODE}`,
        type: eventType(ce),
        subject: ce.id,
        time: EXAMPLE_TIME,
        data: ce.data,
      },
    });
  }
  const presence = (event: string, status: string) => ({
    name: `event.agent.${event}`,
    kind: 'event' as const,
    envelope: {
      specversion: '1.0' as const,
      id: `p-${event}`,
      source: `virtbus://${EXAMPLE_NODE}`,
      type: `virtbus.event.agent.${event}`,
      subject: EXAMPLE_NODE,
      time: EXAMPLE_TIME,
      data: {
        node: EXAMPLE_NODE,
        status,
        bootId: agent.bootId,
        version: '0.1.0',
        libvirtUri: 'qemu+tcp://node1/system',
        transport: 'amqp',
        at: EXAMPLE_TIME,
        heartbeatS: 30,
      },
    },
  });
  out.push(presence('online', 'online'), presence('heartbeat', 'online'), presence('offline', 'offline'));
  const doms = await conn.listDomains();
  out.push({
    name: 'event.agent.snapshot',
    kind: 'event',
    envelope: {
      specversion: '1.0',
      id: 's-1',
      source: `virtbus://${EXAMPLE_NODE}`,
      type: 'virtbus.event.agent.snapshot',
      subject: EXAMPLE_NODE,
      time: EXAMPLE_TIME,
      data: {
        node: EXAMPLE_NODE,
        bootId: agent.bootId,
        reason: 'start',
        at: EXAMPLE_TIME,
        domains: await Promise.all(
          doms.map(async (d) => {
            const s = await d.state();
            return {
              uuid: d.uuid,
              name: d.name,
              id: d.id,
              state: s.state,
              reason: s.reason,
              persistent: await d.isPersistent(),
              seq: 0,
            };
          }),
        ),
        pools: [{ uuid: 'dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566', name: 'default-pool', state: 'running' }],
        networks: [{ uuid: 'dd8fe884-6c02-601e-7551-cca97df1c5df', name: 'default', active: true }],
      },
    },
  });
  // --stats-interval: one domain's record of a real bulk call (virConnectGetAllDomainStats)
  const [stats] = await conn.allDomainStats(0, { nowait: true });
  out.push({
    name: 'event.domain.stats',
    kind: 'event',
    envelope: {
      specversion: '1.0',
      id: 'st-1',
      source: `virtbus://${EXAMPLE_NODE}`,
      type: 'virtbus.event.domain.stats',
      subject: stats.domain.uuid,
      time: EXAMPLE_TIME,
      data: {
        node: EXAMPLE_NODE,
        domain: { uuid: stats.domain.uuid, name: stats.domain.name },
        stats: stats.params,
        at: EXAMPLE_TIME,
      },
    },
  });
  for (const [event, state, progress] of [
    ['started', 'running', undefined],
    [
      'progress',
      'running',
      {
        phase: 'memory',
        dataTotal: 268435456,
        dataProcessed: 120586240,
        dataRemaining: 147849216,
        memDirtyRate: 0,
        iteration: 1,
      },
    ],
    ['completed', 'succeeded', undefined],
  ] as const) {
    out.push({
      name: `event.job.${event}`,
      kind: 'event',
      envelope: {
        specversion: '1.0',
        id: `j-${event}`,
        source: `virtbus://${EXAMPLE_NODE}`,
        type: `virtbus.event.job.${event}`,
        subject: 'c-domain.migrate',
        time: EXAMPLE_TIME,
        data: {
          node: EXAMPLE_NODE,
          id: 'c-domain.migrate',
          command: 'virtbus.cmd.domain.migrate',
          state,
          ...(progress && { progress }),
          at: EXAMPLE_TIME,
        },
      },
    });
  }
  out.push({
    name: 'event.command.completed',
    kind: 'event',
    envelope: {
      specversion: '1.0',
      id: 'cc-1',
      source: `virtbus://${EXAMPLE_NODE}`,
      type: 'virtbus.event.command.completed',
      subject: 'c-42',
      time: EXAMPLE_TIME,
      data: {
        node: EXAMPLE_NODE,
        id: 'c-42',
        command: 'virtbus.cmd.domain.suspend',
        ok: true,
        result: { uuid: '6695eb01-f6a4-8304-79aa-97f2502e193f', name: 'test', state: 'paused' },
        at: EXAMPLE_TIME,
      },
    },
  });
  await jobs.close();
  await conn.close();
  return out;
}

/** Records every example and writes it as JSON and protobuf into dir (anew). */
export async function writeExamples(dir: string): Promise<number> {
  const examples = await record();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const e of examples) {
    writeFileSync(join(dir, `${e.name}.json`), `${JSON.stringify(e.envelope, null, 2)}\n`);
    writeFileSync(join(dir, `${e.name}.pb`), encodeProtobufEnvelope(e.envelope));
  }
  return examples.length;
}
