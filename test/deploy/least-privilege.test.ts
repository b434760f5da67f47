// deploy/rabbitmq/definitions.mjs on a real (private) RabbitMQ node: the
// definitions import; they match what a declaring agent declares; agents run
// under them with --topology passive and only their own rights; what the
// permissions cannot stop (a node dropping a command into another node's
// queue through the default exchange) is refused by the other agent's
// --trusted-keys, and nothing runs there.
//
// Logins here are PLAIN with passwords set for the test (the definitions
// leave users without one, for certificate login with EXTERNAL; the TLS
// broker test is separate): permissions do not depend on how a user logged in.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { AmqpTransport } from '../../src/bus/amqp';
import { signerFrom } from '../../src/auth/signing';
import { connectClient } from '../../src/client/client';
import { removeAgentState, spawnAgent, type AgentProcess } from '../helpers/agent-process';
import { PrivateBroker } from '../helpers/private-brokers';

const DEFINITIONS = join(__dirname, '..', '..', 'deploy', 'rabbitmq', 'definitions.mjs');
const run = randomUUID().slice(0, 6);
const N1 = `lp1-${run}`;
const N2 = `lp2-${run}`;
const ORCH = `orch-${run}`;
const PW = 'test-only-password';

let broker: PrivateBroker;
let dir: string;
const agents: AgentProcess[] = [];
const keys = generateKeyPairSync('ed25519');
const orch = signerFrom(keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), 'orch');

const url = (user: string) => `amqp://${user}:${PW}@127.0.0.1:${broker.port}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'virtbus-lp-'));
  chmodSync(dir, 0o755); // rabbitmqctl runs as user rabbitmq and reads the file
  broker = await PrivateBroker.up('rabbitmq', 'leastpriv');
  const defs = execFileSync(process.execPath, [DEFINITIONS, '--nodes', `${N1},${N2}`, '--callers', ORCH], {
    encoding: 'utf8',
  });
  writeFileSync(join(dir, 'definitions.json'), defs, { mode: 0o644 });
  await broker.ctl('import_definitions', join(dir, 'definitions.json'));
  for (const u of [N1, N2, ORCH]) await broker.ctl('change_password', u, PW);
  writeFileSync(
    join(dir, 'trusted-keys.json'),
    JSON.stringify({
      keys: [{ id: 'orch', publicKey: keys.publicKey.export({ type: 'spki', format: 'pem' }), allow: ['*'] }],
    }),
  );
}, 120_000);

afterAll(async () => {
  for (const a of agents) await a.kill();
  for (const n of [N1, N2]) removeAgentState(n);
  await broker?.down();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function agent(node: string): Promise<AgentProcess> {
  const p = await spawnAgent([
    '--node-id',
    node,
    '--bus',
    url(node),
    '--libvirt-uri',
    'test:///default',
    '--heartbeat',
    '0',
    '--topology',
    'passive',
    '--trusted-keys',
    join(dir, 'trusted-keys.json'),
  ]);
  agents.push(p);
  return p;
}

/** Acts on a channel of user `who`; resolves with the error that closed the channel, or 'open' after ms. */
async function asUser(who: string, act: (ch: amqp.Channel) => unknown, ms = 1500): Promise<string> {
  const conn = await amqp.connect(url(who));
  conn.on('error', () => undefined);
  try {
    const ch = await conn.createChannel();
    const closed = new Promise<string>((resolve) => ch.once('error', (e: Error) => resolve(e.message)));
    try {
      await act(ch);
    } catch (e) {
      return (e as Error).message;
    }
    return await Promise.race([closed, new Promise<string>((r) => setTimeout(() => r('open'), ms))]);
  } finally {
    await conn.close().catch(() => undefined);
  }
}

test('the definitions match what a declaring agent declares (no inequivalent argument)', async () => {
  const t = new AmqpTransport({ endpoint: `amqp://virtbus:virtbus@127.0.0.1:${broker.port}`, nodeId: N1 });
  try {
    await t.start({ beforeConsume: async () => undefined, onDelivery: (d) => d.reject() });
  } finally {
    await t.close();
  }
});

test('agents run with --topology passive and only their own rights: commands, replies, events', async () => {
  await agent(N1);
  await agent(N2);
  const sdk = await connectClient({ endpoint: url(ORCH), node: N1, signer: orch });
  try {
    const seen: string[] = [];
    await sdk.watch((e) => seen.push(`${String(e.type)} ${String((e.data as { event?: string })?.event ?? '')}`), N1);
    expect(await sdk.call('domain.suspend', { domain: 'test' })).toMatchObject({
      ok: true,
      result: { state: 'paused' },
    });
    expect(await sdk.call('domain.resume', { domain: 'test' })).toMatchObject({
      ok: true,
      result: { state: 'running' },
    });
    const until = Date.now() + 10_000;
    while (seen.filter((s) => s.includes('lifecycle')).length < 2 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual(
      expect.arrayContaining(['virtbus.event.domain.lifecycle suspended', 'virtbus.event.domain.lifecycle resumed']),
    );
    expect(await sdk.call('agent.status', {})).toMatchObject({ ok: true, result: { node: N1 } });
    // node 1 finds node 2 for migrate {to} in the presence log (the migration itself then fails:
    // the test driver cannot migrate), with no broadcast and no second connection
    const migrate = await sdk.call('domain.migrate', { domain: 'test', to: N2 }, { timeoutMs: 30_000 });
    expect(migrate.ok).toBe(false);
    expect(JSON.stringify(migrate)).not.toMatch(/no presence seen/);
    expect(JSON.stringify(migrate)).toContain('to test:///default'); // node 2's announced libvirt URI
  } finally {
    await sdk.close();
  }
});

test("a node cannot consume another node's commands, publish its events, use the command or broadcast exchanges, or declare", async () => {
  const refused = /ACCESS_REFUSED|403/;
  expect(await asUser(N1, (ch) => ch.consume(`virtbus.cmd.${N2}`, () => undefined))).toMatch(refused);
  expect(
    await asUser(N1, (ch) => ch.publish('virtbus.events', `v1.${N2}.domain.x.lifecycle`, Buffer.from('{}'))),
  ).toMatch(refused);
  expect(await asUser(N1, (ch) => ch.publish('virtbus.commands', N2, Buffer.from('{}')))).toMatch(refused);
  expect(await asUser(N1, (ch) => ch.publish('virtbus.broadcast', '', Buffer.from('{}')))).toMatch(refused);
  expect(await asUser(N1, (ch) => ch.assertQueue(`virtbus.cmd.${N1}-x`, { durable: true }))).toMatch(refused);
  // its own events are fine
  expect(
    await asUser(N1, (ch) => ch.publish('virtbus.events', `v1.${N1}.agent.${N1}.heartbeat`, Buffer.from('{}'))),
  ).toBe('open');
});

test("what permissions cannot stop — a node putting a command into another node's queue — the other agent refuses", async () => {
  const conn = await amqp.connect(url(N1));
  try {
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const replies: Array<{ ok: boolean; error?: { code: string; message: string } }> = [];
    await ch.consume(queue, (m) => m && replies.push(JSON.parse(m.content.toString()).data), { noAck: true });
    const id = randomUUID();
    const forged = {
      specversion: '1.0',
      id,
      source: `urn:${N1}`,
      type: 'virtbus.cmd.domain.destroy',
      time: new Date().toISOString(),
      data: { domain: 'test' },
    };
    // the default exchange delivers it (every node writes there: replies)
    ch.sendToQueue(`virtbus.cmd.${N2}`, Buffer.from(JSON.stringify(forged)), {
      contentType: 'application/cloudevents+json',
      messageId: id,
      correlationId: id,
      replyTo: queue,
    });
    const until = Date.now() + 10_000;
    while (!replies.length && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(replies[0]).toMatchObject({ ok: false, error: { code: 'FORBIDDEN', message: 'signature required' } });
  } finally {
    await conn.close();
  }
  // nothing ran on node 2
  const sdk = await connectClient({ endpoint: url(ORCH), node: N2, signer: orch });
  try {
    expect(await sdk.call('domain.get', { domain: 'test' })).toMatchObject({ ok: true, result: { state: 'running' } });
  } finally {
    await sdk.close();
  }
});

test('an agent that would declare the topology under these rights fails to start, saying why', async () => {
  await expect(
    spawnAgent(
      ['--node-id', N1, '--bus', url(N1), '--libvirt-uri', 'test:///default', '--state-dir', join(dir, 'declare')],
      20_000,
    ),
  ).rejects.toThrow(/agent exited with 2.*refused to declare the virtbus topology.*--topology passive/s);
});
