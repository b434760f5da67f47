// TLS end to end on private brokers started for this file (scripts/
// private-broker.sh with VIRTBUS_BROKER_TLS_DIR), certificates minted per run
// (scripts/test-certs.sh), the least-privilege configuration from deploy/:
// - an agent over amqps:// logging in by certificate (EXTERNAL) with
//   --topology passive, and one over mqtts:// with a certificate and no
//   password, under the generated ACL: commands, replies and events work;
// - refused: no client certificate, a certificate from a rogue CA, a wrong
//   server name;
// - rotation: new certificate files and SIGHUP, and the broker sees the new
//   certificate on the agent's connection.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { signerFrom } from '../../src/auth/signing';
import { fleet } from '../../src/client/fleet';
import { connectClient } from '../../src/client/client';
import { commandEnvelope } from '../../src/client/types';
import { launchAgent, removeAgentState, spawnAgent, type AgentProcess } from '../helpers/agent-process';
import { PrivateBroker } from '../helpers/private-brokers';

const ROOT = join(__dirname, '..', '..');
const run = randomUUID().slice(0, 6);
const N1 = `tls1-${run}`;
const N2 = `tls2-${run}`;
const N3 = `tls3-${run}`;
const N4 = `tls4-${run}`;
const N5 = `tls5-${run}`;
const ORCH = `orch-${run}`;

let certs: string;
let rabbit: PrivateBroker;
let mosquitto: PrivateBroker;
const agents: AgentProcess[] = [];
const keys = generateKeyPairSync('ed25519');
const orch = signerFrom(keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), 'orch');
const c = (f: string) => join(certs, f);
const amqps = () => `amqps://localhost:${rabbit.port}`;
const mqtts = () => `mqtts://localhost:${mosquitto.port}`;

beforeAll(async () => {
  certs = mkdtempSync(join(tmpdir(), 'virtbus-tls-'));
  execFileSync('bash', [join(ROOT, 'scripts', 'test-certs.sh'), certs, N1, N2, N3, N4, N5, ORCH], { stdio: 'pipe' });
  writeFileSync(
    c('mosquitto.acl'),
    execFileSync(process.execPath, [
      join(ROOT, 'deploy', 'mosquitto', 'acl.mjs'),
      '--nodes',
      `${N2}`,
      '--callers',
      ORCH,
    ]),
    { mode: 0o644 },
  );
  writeFileSync(
    c('definitions.json'),
    execFileSync(process.execPath, [
      join(ROOT, 'deploy', 'rabbitmq', 'definitions.mjs'),
      '--nodes',
      `${N1},${N3},${N4},${N5}`,
      '--callers',
      ORCH,
    ]),
    { mode: 0o644 },
  );
  writeFileSync(
    c('trusted-keys.json'),
    JSON.stringify({
      keys: [{ id: 'orch', publicKey: keys.publicKey.export({ type: 'spki', format: 'pem' }), allow: ['*'] }],
    }),
    { mode: 0o644 },
  );
  [rabbit, mosquitto] = await Promise.all([
    PrivateBroker.up('rabbitmq', 'tls', { tlsDir: certs, mqtts: true }),
    PrivateBroker.up('mosquitto', 'tls', { tlsDir: certs }),
  ]);
  await rabbit.ctl('import_definitions', c('definitions.json'));
}, 180_000);

afterAll(async () => {
  for (const a of agents) await a.kill();
  for (const n of [N1, N2, N3, N4, N5]) removeAgentState(n);
  await Promise.all([rabbit?.down(), mosquitto?.down()]);
  rmSync(certs, { recursive: true, force: true });
}, 60_000);

const tls = (name: string, extra: string[] = []) => [
  '--tls-ca',
  c('ca.crt'),
  '--tls-cert',
  c(`${name}.crt`),
  '--tls-key',
  c(`${name}.key`),
  ...extra,
];

/** the orchestrator's endpoint: its certificate, our CA */
const orchEndpoint = (url: string) => ({
  urls: [url],
  tls: { caFile: c('ca.crt'), certFile: c(`${ORCH}.crt`), keyFile: c(`${ORCH}.key`) },
});

/** an agent on the TLS RabbitMQ as the least-privilege setup runs it: certificate login, topology checked only */
const passiveAmqps = () => ['--bus', amqps(), '--amqp-auth', 'external', '--topology', 'passive'];

/** The orchestrator (its certificate, signing) asks node for domain.get over MQTT(S) and gets the domain. */
async function expectSignedGet(url: string, node: string, protocolVersion?: 4 | 5): Promise<void> {
  const sdk = await connectClient({
    endpoint: orchEndpoint(url),
    node,
    ...(protocolVersion && { protocolVersion }),
    signer: orch,
    caller: ORCH,
  });
  try {
    expect(await sdk.call('domain.get', { domain: 'test' })).toMatchObject({ ok: true, result: { name: 'test' } });
  } finally {
    await sdk.close();
  }
}

async function agent(args: string[]): Promise<AgentProcess> {
  const p = await spawnAgent([...args, '--libvirt-uri', 'test:///default', '--heartbeat', '0']);
  agents.push(p);
  return p;
}

test('amqps:// with EXTERNAL login and --topology passive: signed commands, replies and events', async () => {
  await agent(['--node-id', N1, ...passiveAmqps(), '--trusted-keys', c('trusted-keys.json'), ...tls(N1)]);
  const sdk = await connectClient({
    endpoint: orchEndpoint(amqps()),
    auth: 'external',
    node: N1,
    signer: orch,
  });
  try {
    const events: string[] = [];
    await sdk.watch((e) => events.push(String((e.data as { event?: string })?.event)), N1);
    expect(await sdk.call('domain.suspend', { domain: 'test' })).toMatchObject({ ok: true });
    expect(await sdk.call('domain.resume', { domain: 'test' })).toMatchObject({ ok: true });
    const until = Date.now() + 10_000;
    while (!events.includes('resumed') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(events).toEqual(expect.arrayContaining(['suspended', 'resumed']));
    // presence under the same rights: the fleet list (the presence log the operator declared) shows the agent online
    const listed = (await fleet(sdk).nodes()).find((n) => n.node === N1);
    expect(listed).toMatchObject({ node: N1, status: 'online', transport: 'amqp' });
  } finally {
    await sdk.close();
  }
});

test('mqtts:// with a certificate and no password, under the generated ACL', async () => {
  await agent([
    '--node-id',
    N2,
    '--bus',
    mqtts(),
    '--trusted-keys',
    c('trusted-keys.json'),
    '--reply-topic-prefix',
    'virtbus/reply/',
    ...tls(N2),
  ]);
  await expectSignedGet(mqtts(), N2);
});

test('the CLI over amqps:// with EXTERNAL and over mqtts:// with a certificate, signing its commands', async () => {
  writeFileSync(c('orch-signing.key'), keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const cli = (args: string[]) =>
    spawnSync(
      process.execPath,
      [
        join(ROOT, 'dist', 'agent', 'virtbus.js'),
        '--json',
        ...['--tls-ca', c('ca.crt'), '--tls-cert', c(`${ORCH}.crt`), '--tls-key', c(`${ORCH}.key`)],
        ...['--signing-key', c('orch-signing.key'), '--key-id', 'orch'],
        ...args,
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
  const overAmqps = cli(['--bus', amqps(), '--amqp-auth', 'external', '--node', N1, 'domain.get', 'domain=test']);
  expect([overAmqps.status, overAmqps.stderr]).toEqual([0, '']);
  expect(JSON.parse(overAmqps.stdout)).toMatchObject({ ok: true, result: { name: 'test' } });
  const overMqtts = cli(['--bus', mqtts(), '--caller', ORCH, '--node', N2, 'domain.list']);
  expect([overMqtts.status, overMqtts.stderr]).toEqual([0, '']);
  expect(JSON.parse(overMqtts.stdout)).toMatchObject({ ok: true });
});

test("over MQTT a node cannot read another node's commands, publish its events or command it (generated ACL)", async () => {
  // node 1's certificate (its agent is on RabbitMQ) against node 2's topics on Mosquitto
  const attacker = () =>
    mqtt.connectAsync(mqtts(), {
      protocolVersion: 5,
      reconnectPeriod: 0,
      ca: readFileSync(c('ca.crt')),
      cert: readFileSync(c(`${N1}.crt`)),
      key: readFileSync(c(`${N1}.key`)),
    });
  const reader = await attacker();
  try {
    const got: string[] = [];
    reader.on('message', (topic) => got.push(topic));
    await reader.subscribeAsync(`virtbus/v1/${N2}/cmd`, { qos: 1 }); // granted, but the ACL delivers nothing
    const sdk = await connectClient({
      endpoint: orchEndpoint(mqtts()),
      node: N2,
      signer: orch,
      caller: ORCH,
    });
    try {
      expect(await sdk.call('domain.list', {})).toMatchObject({ ok: true });
    } finally {
      await sdk.close();
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toEqual([]);
  } finally {
    reader.end(true);
  }
  // each forged publish on a connection of its own: Mosquitto answers Not authorized, then drops the client
  for (const topic of [`virtbus/v1/${N2}/domain/x/lifecycle`, `virtbus/v1/${N2}/cmd`, `virtbus/v1/all/cmd`]) {
    const forger = await attacker();
    try {
      const outcome = await Promise.race([
        forger.publishAsync(topic, '{}', { qos: 1 }).then(
          () => 'accepted',
          (e: Error) => e.message,
        ),
        new Promise((r) => setTimeout(() => r('no PUBACK'), 5000)),
      ]);
      expect([topic, outcome]).toEqual([topic, 'Publish error: Not authorized']);
    } finally {
      forger.end(true);
    }
  }
});

test('--reply-topic-prefix: a caller asking for a reply where the ACL forbids it cannot cost the agent its connection', async () => {
  const n2 = agents.find((a) => a.args.includes(N2))!;
  const caller = await mqtt.connectAsync(mqtts(), {
    protocolVersion: 5,
    reconnectPeriod: 0,
    ca: readFileSync(c('ca.crt')),
    cert: readFileSync(c(`${ORCH}.crt`)),
    key: readFileSync(c(`${ORCH}.key`)),
  });
  try {
    const seen: Array<{ topic: string; body: string }> = [];
    caller.on('message', (topic, payload) => seen.push({ topic, body: payload.toString() }));
    await caller.subscribeAsync(`virtbus/v1/${N2}/command/+/completed`, { qos: 1 });
    const env = commandEnvelope('domain.list', {}, 'urn:test', { sign: { signer: orch, target: N2 } });
    const since = Date.now();
    await caller.publishAsync(`virtbus/v1/${N2}/cmd`, JSON.stringify(env), {
      qos: 1,
      properties: {
        responseTopic: 'elsewhere/replies', // outside virtbus/reply/: the ACL would refuse the agent's publish
        correlationData: Buffer.from(env.id),
        contentType: 'application/cloudevents+json',
      },
    });
    const until = Date.now() + 10_000;
    while (!seen.some((m) => m.topic.includes(env.id)) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    // answered as the completion event (it had nowhere usable to reply), with the reason
    const done = seen.find((m) => m.topic.includes(env.id));
    expect(done && JSON.parse(done.body)).toMatchObject({
      ok: false,
      error: { code: 'BAD_REQUEST', message: expect.stringContaining('reply topic outside virtbus/reply/') },
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(n2.logs.filter((l) => l.t >= since && /^bus (connection lost|connected)$/.test(l.msg))).toEqual([]);
  } finally {
    caller.end(true);
  }
});

test("RabbitMQ's MQTT over TLS (3.1.1, certificate login): an agent and a signing caller under the generated permissions", async () => {
  const url = `mqtts://localhost:${rabbit.mqttsPort}`;
  await agent([
    '--node-id',
    N4,
    '--bus',
    url,
    '--mqtt-version',
    '4',
    '--trusted-keys',
    c('trusted-keys.json'),
    '--reply-topic-prefix',
    'virtbus/reply/',
    ...tls(N4),
  ]);
  await expectSignedGet(url, N4, 4);
});

test('rediss:// for the job store: a Redis with TLS and client certificates, started for this test', async () => {
  const { freePort, waitAccepting } = await import('../helpers/private-brokers');
  const port = await freePort();
  const redis = spawn(
    'redis-server',
    [
      ...['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1'],
      ...['--tls-cert-file', c('server.crt'), '--tls-key-file', c('server.key'), '--tls-ca-cert-file', c('ca.crt')],
      ...['--tls-auth-clients', 'yes', '--save', '', '--appendonly', 'no', '--dir', certs],
    ],
    { stdio: 'ignore' },
  );
  try {
    expect(await waitAccepting(port, 10_000)).toBe(true);
    await agent(['--node-id', N5, ...passiveAmqps(), ...tls(N5), '--redis', `rediss://localhost:${port}`]).catch(
      (e: Error) => {
        throw new Error(`agent with rediss:// did not start: ${e.message}`);
      },
    );
    // the agent's job store answers through Redis over TLS
    const sdk = await connectClient({
      endpoint: orchEndpoint(amqps()),
      auth: 'external',
      node: N5,
    });
    try {
      expect(await sdk.call('job.list', {})).toMatchObject({ ok: true, result: { jobs: [] } });
    } finally {
      await sdk.close();
    }
  } finally {
    redis.kill('SIGKILL');
  }
});

describe('refused connections (the agent keeps trying and says why)', () => {
  test.each([
    // plain login here: EXTERNAL without a certificate is a configuration error the agent refuses itself
    ['no client certificate', () => ['--tls-ca', c('ca.crt')], /alert certificate required/],
    [
      'a certificate from a rogue CA',
      () => [
        '--amqp-auth',
        'external',
        '--tls-ca',
        c('ca.crt'),
        '--tls-cert',
        c(`rogue-${N1}.crt`),
        '--tls-key',
        c(`rogue-${N1}.key`),
      ],
      /alert unknown ca/,
    ],
    [
      'a wrong server name',
      () => ['--amqp-auth', 'external', ...tls(N1, ['--tls-servername', 'not-the-broker.example'])],
      /not-the-broker\.example\. is not in the cert's altnames/,
    ],
  ])('%s', async (_what, args, reason) => {
    const node = N1;
    const p = launchAgent([
      '--node-id',
      node,
      '--bus',
      amqps(),
      '--topology',
      'passive',
      '--libvirt-uri',
      'test:///default',
      '--state-dir',
      join(certs, `refused-${randomUUID()}`),
      ...args(),
    ]);
    try {
      const failed = await p.waitLog('bus connect failed', 0, 20_000);
      expect(String(failed.err)).toMatch(reason);
      expect(p.readyTime).toBeUndefined();
    } finally {
      await p.kill();
    }
  });
});

test('rotation: new certificate files and SIGHUP, and the broker sees the new certificate', async () => {
  // the agent reads its certificate from these paths; the test replaces their content
  const dir = mkdtempSync(join(certs, 'rot-'));
  for (const f of ['ca.crt', 'ca.key', 'server.crt', 'server.key']) copyFileSync(c(f), join(dir, f)); // the same CA signs
  copyFileSync(c(`${N3}.crt`), join(dir, 'agent.crt'));
  copyFileSync(c(`${N3}.key`), join(dir, 'agent.key'));
  const a = await agent([
    '--node-id',
    N3,
    ...passiveAmqps(),
    '--tls-ca',
    c('ca.crt'),
    '--tls-cert',
    join(dir, 'agent.crt'),
    '--tls-key',
    join(dir, 'agent.key'),
  ]);
  const validity = async () =>
    (await rabbit.ctl('list_connections', '--no-table-headers', 'client_properties', 'peer_cert_validity'))
      .split('\n')
      .find((l) => l.includes(`virtbus-agent-${N3}`));
  const before = await validity();
  expect(before).toBeDefined();
  // a new certificate for the same node, valid for a different period
  execFileSync('bash', [join(ROOT, 'scripts', 'test-certs.sh'), dir, N3], { env: { ...process.env, DAYS: '10' } });
  copyFileSync(join(dir, `${N3}.crt`), join(dir, 'agent.crt'));
  copyFileSync(join(dir, `${N3}.key`), join(dir, 'agent.key'));
  const at = Date.now();
  a.child.kill('SIGHUP');
  await a.waitLog('bus connected', at, 20_000, (l) => l.reconnect === true);
  const end = Date.now() + 10_000;
  let after = await validity();
  while ((after === undefined || after === before) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 200));
    after = await validity();
  }
  expect(after).toBeDefined();
  expect(after).not.toEqual(before);
});
