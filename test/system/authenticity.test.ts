// Command authenticity end to end (contract v1): real agent processes on the
// system RabbitMQ and Mosquitto with --trusted-keys / --trusted-senders.
// Every refusal is FORBIDDEN with the contract's phrase and nothing runs
// (libvirt's test domain stays running, no lifecycle event appears); a
// signed command replayed gets the stored reply and runs once; a protobuf
// command verifies like a JSON one; broadcast commands are signed for 'all'.
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { signFields, signerFrom, type Signer } from '../../src/auth/signing';
import { connectClient } from '../../src/client/client';
import { encodeProtobufEnvelope } from '../../src/codec/protobuf';
import { AMQP_URL, TestClient, deleteNodeQueues } from '../helpers/amqp-client';
import { testNode } from '../helpers/agent';
import { removeAgentState, spawnAgent, type AgentProcess } from '../helpers/agent-process';
import { cleanupAfterEach } from '../helpers/cleanup';
import { forgetAgent } from '../helpers/mqtt';

const MQTT_URL = process.env.VIRTBUS_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const defer = cleanupAfterEach();

const pemOf = (k: KeyObject, type: 'spki' | 'pkcs8') => k.export({ type, format: 'pem' }) as string;
const orchKeys = generateKeyPairSync('ed25519');
const readerKeys = generateKeyPairSync('ed25519');
const orch: Signer = signerFrom(pemOf(orchKeys.privateKey, 'pkcs8'), 'orch-1');
const reader: Signer = signerFrom(pemOf(readerKeys.privateKey, 'pkcs8'), 'reader-1');

function trustedKeysFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'virtbus-trust-'));
  defer(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'trusted-keys.json');
  writeFileSync(
    file,
    JSON.stringify({
      keys: [
        { id: 'orch-1', publicKey: pemOf(orchKeys.publicKey, 'spki'), allow: ['*'] },
        { id: 'reader-1', publicKey: pemOf(readerKeys.publicKey, 'spki'), allow: ['*.list', '*.get', 'agent.*'] },
      ],
    }),
  );
  return file;
}

async function agent(node: string, bus: string, extra: string[]): Promise<AgentProcess> {
  defer(`forget ${node}`, async () => {
    removeAgentState(node);
    if (bus.startsWith('amqp')) await deleteNodeQueues(node);
    else await forgetAgent(bus, 5, node);
  });
  const p = await spawnAgent([
    '--node-id',
    node,
    '--bus',
    bus,
    '--libvirt-uri',
    'test:///default',
    '--heartbeat',
    '0',
    ...extra,
  ]);
  defer(`stop agent ${node}`, () => p.stop());
  return p;
}

async function client(): Promise<TestClient> {
  const c = await TestClient.connect();
  defer('close test client', () => c.close());
  return c;
}

interface Craft {
  command: string;
  data?: unknown;
  signer?: Signer;
  /** what the signature covers, where it differs from what is sent */
  signAs?: { type?: string; data?: unknown; target?: string };
  target: string;
  time?: string;
  id?: string;
}

/** A command envelope as an other-language client would build it. */
function craft(c: Craft) {
  const env: Record<string, unknown> = {
    specversion: '1.0',
    id: c.id ?? randomUUID(),
    source: 'urn:test:orchestrator',
    type: `virtbus.cmd.${c.command}`,
    time: c.time ?? new Date().toISOString(),
    data: c.data ?? {},
  };
  if (c.signer) {
    env.sigkeyid = c.signer.keyId;
    env.signature = signFields(c.signer.privateKey, {
      id: env.id as string,
      type: c.signAs?.type ?? (env.type as string),
      source: env.source as string,
      time: env.time as string,
      target: c.signAs?.target ?? c.target,
      sigkeyid: c.signer.keyId,
      data: c.signAs?.data ?? env.data,
    });
  }
  return env;
}

async function send(t: TestClient, node: string, env: Record<string, unknown>, props: amqp.Options.Publish = {}) {
  const from = t.received.length;
  const id = env.id as string;
  t.send(node, JSON.stringify(env), { messageId: id, correlationId: id, replyTo: t.replyQueue, ...props });
  return (await t.replyTo(id, `${String(env.type)} reply`, 15000, from)).body.data as {
    ok: boolean;
    result?: Record<string, unknown>;
    error?: { code: string; message: string };
  };
}

const refusalOf = (r: { ok: boolean; error?: { code: string; message: string } }) =>
  r.ok ? 'ran' : `${r.error!.code} ${r.error!.message.split(':')[0]}`;

describe('signed commands over AMQP (--trusted-keys)', () => {
  test('valid ones run; each forgery is FORBIDDEN with its reason and nothing runs; a replay gets the stored reply once', async () => {
    const node = testNode('sig');
    const a = await agent(node, AMQP_URL, ['--trusted-keys', trustedKeysFile(), '--signature-skew', '30']);
    expect(a.logs.some((l) => /signed commands required: 2 trusted key/.test(l.msg))).toBe(true);
    const t = await client();
    await t.bindEvents(`v1.${node}.domain.*.lifecycle`);
    const lifecycles = () => t.received.filter((m) => m.body?.type === 'virtbus.event.domain.lifecycle');

    // the SDK signs when given a key
    const sdk = await connectClient({ endpoint: AMQP_URL, node, signer: orch });
    defer('close SDK client', () => sdk.close());
    expect(await sdk.call('domain.get', { domain: 'test' })).toMatchObject({ ok: true, result: { state: 'running' } });
    // and without one it is refused
    const unsignedSdk = await connectClient({ endpoint: AMQP_URL, node });
    defer('close unsigned SDK client', () => unsignedSdk.close());
    expect(refusalOf(await unsignedSdk.call('domain.get', { domain: 'test' }))).toBe('FORBIDDEN signature required');

    // refusals counted from here (other agents' unsigned start-up pings on the broadcast exchange count too)
    type Counts = Record<string, number>;
    const refused = async () =>
      ((await sdk.call('agent.status', {})) as { result: { refused: Counts } }).result.refused;
    const delta = (before: Counts, after: Counts) =>
      Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k]]));
    const before = await refused();
    const suspend = { command: 'domain.suspend', data: { domain: 'test' }, target: node };
    const old = new Date(Date.now() - 120_000).toISOString();
    const forgeries: Array<[string, Record<string, unknown>, string]> = [
      ['unsigned', craft(suspend), 'signature required'],
      ['unknown key', { ...craft({ ...suspend, signer: orch }), sigkeyid: 'mallory' }, 'unknown key'],
      [
        'tampered data, one byte',
        craft({ ...suspend, data: { domain: 'tost' }, signer: orch, signAs: { data: { domain: 'test' } } }),
        'bad signature',
      ],
      [
        'tampered type',
        craft({ ...suspend, signer: orch, signAs: { type: 'virtbus.cmd.domain.get' } }),
        'bad signature',
      ],
      ['time outside the skew', craft({ ...suspend, signer: orch, time: old }), 'stale time'],
      [
        'signed for another node',
        craft({ ...suspend, signer: orch, signAs: { target: 'other-node' } }),
        'bad signature',
      ],
      [
        'signed for all, sent to the node',
        craft({ ...suspend, signer: orch, signAs: { target: 'all' } }),
        'bad signature',
      ],
      ['outside the key allowlist', craft({ ...suspend, signer: reader }), 'command not allowed for key'],
    ];
    for (const [what, env, phrase] of forgeries) {
      expect([what, refusalOf(await send(t, node, env))]).toEqual([what, `FORBIDDEN ${phrase}`]);
    }
    // nothing ran: the domain still runs and no lifecycle event was published
    expect(((await sdk.call('domain.get', { domain: 'test' })) as { result: unknown }).result).toMatchObject({
      state: 'running',
    });
    expect(lifecycles()).toHaveLength(0);
    expect(delta(before, await refused())).toEqual({
      senderNotTrusted: 0,
      signatureRequired: 1,
      unknownKey: 1,
      badSignature: 4,
      staleTime: 1,
      commandNotAllowed: 1,
    });

    // a valid signed suspend runs once; the same message again gets the stored reply and runs no more
    const real = craft({ ...suspend, signer: orch });
    const first = await send(t, node, real);
    expect(first).toMatchObject({ ok: true, result: { state: 'paused' } });
    await t.waitFor((m) => m.body?.data?.event === 'suspended', 'suspended event');
    expect(await send(t, node, real)).toEqual(first);
    // a known id with a bad signature is refused, not answered from the record
    expect(refusalOf(await send(t, node, { ...real, data: { domain: 'tost' } }))).toBe('FORBIDDEN bad signature');
    await new Promise((r) => setTimeout(r, 300));
    expect(lifecycles().map((m) => m.body.data.event)).toEqual(['suspended']);

    const beforeProtobuf = await refused();
    // protobuf: signed over the same JSON object its JSON encoding carries
    const resume = craft({ command: 'domain.resume', data: { domain: 'test' }, target: node, signer: orch });
    const pb = encodeProtobufEnvelope(resume as never);
    const from = t.received.length;
    t.send(node, pb, {
      contentType: 'application/cloudevents+protobuf',
      messageId: resume.id as string,
      correlationId: resume.id as string,
      replyTo: t.replyQueue,
    });
    const pbReply = await t.replyTo(resume.id as string, 'protobuf resume reply', 15000, from);
    expect(pbReply.properties.contentType).toBe('application/cloudevents+protobuf');
    expect(((await sdk.call('domain.get', { domain: 'test' })) as { result: unknown }).result).toMatchObject({
      state: 'running',
    });
    const tampered = craft({
      command: 'domain.suspend',
      data: { domain: 'test' },
      target: node,
      signer: orch,
      signAs: { type: 'virtbus.cmd.domain.get' },
    });
    const from2 = t.received.length;
    t.send(node, encodeProtobufEnvelope(tampered as never), {
      contentType: 'application/cloudevents+protobuf',
      messageId: tampered.id as string,
      correlationId: tampered.id as string,
      replyTo: t.replyQueue,
    });
    await t.replyTo(tampered.id as string, 'protobuf tampered reply', 15000, from2);
    expect(((await sdk.call('domain.get', { domain: 'test' })) as { result: unknown }).result).toMatchObject({
      state: 'running',
    });
    expect(delta(beforeProtobuf, await refused())).toMatchObject({ badSignature: 1 });

    // the CLI signs with --signing-key/--key-id (exit 0), and without them is refused (exit 1)
    const dir = mkdtempSync(join(tmpdir(), 'virtbus-cli-key-'));
    defer(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'orch.key'), pemOf(orchKeys.privateKey, 'pkcs8'), { mode: 0o600 });
    const cli = (extra: string[]) =>
      spawnSync(
        process.execPath,
        [
          join(__dirname, '..', '..', 'dist', 'agent', 'virtbus.js'),
          '--bus',
          AMQP_URL,
          '--node',
          node,
          '--json',
          ...extra,
        ],
        { encoding: 'utf8', timeout: 20_000 },
      );
    const cliSigned = cli(['--signing-key', join(dir, 'orch.key'), '--key-id', 'orch-1', 'domain.get', 'domain=test']);
    expect([cliSigned.status, cliSigned.stderr]).toEqual([0, '']);
    expect(JSON.parse(cliSigned.stdout)).toMatchObject({ ok: true, result: { name: 'test' } });
    const cliUnsigned = cli(['domain.get', 'domain=test']);
    expect(cliUnsigned.status).toBe(1);
    expect(JSON.parse(cliUnsigned.stdout)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });

    // broadcast: signed for 'all' (this agent answers; other agents on the broker answer or refuse on their own)
    const replies: unknown[] = [];
    await sdk.broadcast('agent.ping', {}, (e) => {
      if ((e.source as string).endsWith(`//${node}`)) replies.push(e.data);
    });
    const until = Date.now() + 10_000;
    while (!replies.length && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(replies[0]).toMatchObject({ ok: true });
  });

  test('an agent refuses to start with --require-signed and no keys, or a broken keys file', async () => {
    const node = testNode('sigcfg');
    await expect(spawnAgent(['--node-id', node, '--bus', AMQP_URL, '--require-signed'], 10_000)).rejects.toThrow(
      /require-signed needs trusted-keys/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'virtbus-trust-'));
    defer(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ keys: [{ id: 'x', publicKey: 'nope', allow: ['*'] }] }));
    await expect(
      spawnAgent(['--node-id', node, '--bus', AMQP_URL, '--trusted-keys', join(dir, 'bad.json')], 10_000),
    ).rejects.toThrow(/keys\[0\]\.publicKey is not a public key/);
    removeAgentState(node);
  });
});

test('SIGHUP reads the trusted keys file again: a new key is trusted, a broken file keeps the keys in use', async () => {
  const node = testNode('sighup');
  const file = trustedKeysFile();
  const a = await agent(node, AMQP_URL, ['--trusted-keys', file]);
  const fresh = generateKeyPairSync('ed25519');
  const newcomer = signerFrom(pemOf(fresh.privateKey, 'pkcs8'), 'new-1');
  const viaNew = await connectClient({ endpoint: AMQP_URL, node, signer: newcomer });
  defer('close new-key client', () => viaNew.close());
  const viaOrch = await connectClient({ endpoint: AMQP_URL, node, signer: orch });
  defer('close orch client', () => viaOrch.close());
  expect(refusalOf(await viaNew.call('domain.list', {}))).toBe('FORBIDDEN unknown key');

  const doc = JSON.parse(readFileSync(file, 'utf8')) as { keys: unknown[] };
  doc.keys.push({ id: 'new-1', publicKey: pemOf(fresh.publicKey, 'spki'), allow: ['*.list'] });
  writeFileSync(file, JSON.stringify(doc));
  let at = Date.now();
  a.child.kill('SIGHUP');
  expect((await a.waitLog(`SIGHUP: trusted keys read again from ${file}`, at, 5000)).keys).toBe(3);
  expect(await viaNew.call('domain.list', {})).toMatchObject({ ok: true });

  writeFileSync(file, '{ "keys": [ { "id": "broken" ');
  at = Date.now();
  a.child.kill('SIGHUP');
  await a.waitLog('SIGHUP: the trusted keys file is not usable; the keys in use stay', at, 5000);
  expect(await viaNew.call('domain.list', {})).toMatchObject({ ok: true });
  expect(await viaOrch.call('domain.get', { domain: 'test' })).toMatchObject({ ok: true });
  expect(a.child.exitCode).toBeNull();
});

describe('trusted senders over AMQP (validated user_id)', () => {
  test('only commands whose broker-validated user_id is trusted run; a forged user_id never reaches the agent', async () => {
    const trusting = testNode('snd');
    const strict = testNode('snd2');
    await agent(trusting, AMQP_URL, ['--trusted-senders', 'guest']);
    await agent(strict, AMQP_URL, ['--trusted-senders', 'orchestrator,ops']);
    const t = await client();
    const get = (node: string) => craft({ command: 'domain.get', data: { domain: 'test' }, target: node });

    expect(refusalOf(await send(t, trusting, get(trusting)))).toBe('FORBIDDEN sender not trusted');
    expect(refusalOf(await send(t, trusting, get(trusting), { userId: 'guest' }))).toBe('ran');
    expect(refusalOf(await send(t, strict, get(strict), { userId: 'guest' }))).toBe('FORBIDDEN sender not trusted');
    // the SDK puts the connection's user name on its commands
    const sdk = await connectClient({ endpoint: AMQP_URL, node: trusting });
    defer('close SDK client', () => sdk.close());
    expect(await sdk.call('domain.get', { domain: 'test' })).toMatchObject({ ok: true });

    // RabbitMQ itself refuses a user_id that is not the connection's user: the channel closes
    const conn = await amqp.connect(AMQP_URL);
    defer('close forging connection', () => conn.close().catch(() => undefined));
    const ch = await conn.createChannel();
    const closed = new Promise<Error>((resolve) => ch.once('error', resolve));
    ch.publish('virtbus.commands', trusting, Buffer.from(JSON.stringify(get(trusting))), { userId: 'admin' });
    expect((await closed).message).toMatch(/PRECONDITION_FAILED.*user_id/);
  });

  test('--trusted-senders on an MQTT bus is a configuration error (MQTT has no validated sender)', async () => {
    const node = testNode('sndm');
    await expect(spawnAgent(['--node-id', node, '--bus', MQTT_URL, '--trusted-senders', 'a'], 10_000)).rejects.toThrow(
      /trusted-senders needs an AMQP bus/,
    );
    removeAgentState(node);
  });
});

describe('signed commands over MQTT 5 (Mosquitto)', () => {
  test('the SDK signs and gets replies under virtbus/reply/<caller>/; unsigned is refused', async () => {
    const node = testNode('sigm');
    await agent(node, MQTT_URL, ['--trusted-keys', trustedKeysFile()]);
    const signed = await connectClient({ endpoint: MQTT_URL, node, signer: reader, caller: 'orchestrator' });
    defer('close signed MQTT client', () => signed.close());
    expect(await signed.call('domain.list', {})).toMatchObject({ ok: true });
    expect(refusalOf(await signed.call('domain.suspend', { domain: 'test' }))).toBe(
      'FORBIDDEN command not allowed for key',
    );
    const unsigned = await connectClient({ endpoint: MQTT_URL, node });
    defer('close unsigned MQTT client', () => unsigned.close());
    expect(refusalOf(await unsigned.call('domain.list', {}))).toBe('FORBIDDEN signature required');
    expect((signed as unknown as { replyTopic: string }).replyTopic).toMatch(
      /^virtbus\/reply\/orchestrator\/[0-9a-f-]{36}$/,
    );
  });
});
