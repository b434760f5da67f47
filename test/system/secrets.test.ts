// What an operator's secrets and certificates go through in a running agent:
// a bus password never appears in its logs, errors or agent.status — when
// the login fails, when the broker is unreachable, and when it works — and
// SIGHUP reconnects to the bus (TLS files are read at every connect:
// rotation without restart) while commands keep being answered.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestClient, deleteNodeQueues } from '../helpers/amqp-client';
import { testNode } from '../helpers/agent';
import { launchAgent, removeAgentState, spawnAgent, type AgentProcess } from '../helpers/agent-process';
import { cleanupAfterEach } from '../helpers/cleanup';
import { forgetAgent } from '../helpers/mqtt';
import { MqttTestClient } from '../helpers/mqtt-client';

const MQTT_URL = process.env.VIRTBUS_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const defer = cleanupAfterEach();
const SECRET = `Pw-${randomUUID()}`;

function track(node: string, p: AgentProcess, bus: 'amqp' | 'mqtt'): AgentProcess {
  defer(`forget ${node}`, async () => {
    removeAgentState(node);
    if (bus === 'amqp') await deleteNodeQueues(node);
    else await forgetAgent(MQTT_URL, 5, node);
  });
  defer(`stop ${node}`, () => p.kill());
  return p;
}

const everything = (p: AgentProcess) => `${JSON.stringify(p.logs)}\n${p.stderr}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test.each([
  ['a refused login', `amqp://guest:${SECRET}@127.0.0.1:5672`, /ACCESS_REFUSED|refused|auth/i],
  ['an unreachable broker', `amqp://agent:${SECRET}@127.0.0.1:1`, /ECONNREFUSED/],
  ['an unreachable MQTT broker', `mqtt://agent:${SECRET}@127.0.0.1:1`, /ECONNREFUSED/],
])('the password is never logged: %s', async (_what, bus, failure) => {
  const node = testNode('pw');
  const p = track(
    node,
    launchAgent(['--node-id', node, '--bus', bus, '--heartbeat', '0']),
    bus.startsWith('amqp') ? 'amqp' : 'mqtt',
  );
  const end = Date.now() + 15_000;
  while (!failure.test(everything(p)) && Date.now() < end) await sleep(100);
  expect(everything(p)).toMatch(failure); // it did try and say why
  expect(everything(p)).toContain('127.0.0.1'); // and where
  expect(everything(p)).not.toContain(SECRET);
});

test('the password is in neither the logs nor agent.status of a working agent (MQTT, credentials from a _FILE)', async () => {
  const node = testNode('pwok');
  const dir = mkdtempSync(join(tmpdir(), 'virtbus-secret-'));
  defer(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'bus'), `mqtt://agent:${SECRET}@127.0.0.1:1883\n`, { mode: 0o600 });
  // Mosquitto on this machine takes any user name and password (anonymous access)
  const p = await spawnAgent(['--node-id', node, '--heartbeat', '0', '--log-level', 'debug'], 30_000, {
    VIRTBUS_BUS_FILE: join(dir, 'bus'),
  });
  track(node, p, 'mqtt');
  expect(p.firstLog('starting')?.bus).toBe('mqtt://agent:***@127.0.0.1:1883');
  const c = await MqttTestClient.connect(MQTT_URL, 5);
  defer('close MQTT client', () => c.close());
  const status = await c.call(node, 'agent.status', {});
  expect(status.data).toMatchObject({ ok: true });
  expect(JSON.stringify(status)).not.toContain(SECRET);
  expect(everything(p)).not.toContain(SECRET);
});

test('SIGHUP reconnects to the bus (TLS files read again) and commands keep being answered', async () => {
  const node = testNode('hup');
  const p = track(
    node,
    await spawnAgent(['--node-id', node, '--bus', 'amqp://guest:guest@127.0.0.1:5672', '--heartbeat', '0']),
    'amqp',
  );
  const t = await TestClient.connect();
  defer('close test client', () => t.close());
  expect((await t.call(node, 'agent.ping', {})).data).toMatchObject({ ok: true });
  const before = Date.now();
  p.child.kill('SIGHUP');
  const hup = await p.waitLog('SIGHUP: reconnecting to the bus with the TLS files as they are now', before, 5000);
  expect(hup.renewed).toBe(true);
  await p.waitLog('bus connected', before, 15_000, (l) => l.reconnect === true);
  expect((await t.call(node, 'domain.get', { domain: 'test' })).data).toMatchObject({ ok: true });
  expect(p.child.exitCode).toBeNull(); // SIGHUP does not stop it
});
