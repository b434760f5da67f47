// Presence through the broker's Last Will: an agent process killed with
// SIGKILL sends nothing, yet subscribers see its retained status turn
// offline (after the will delay on MQTT 5); started again, it is online.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { MqttTransportOptions } from '../../../src/bus/mqtt';
import { BROKERS, TestMqttClient, clearRetained, forgetSession, mqttNodeId, type BrokerCase } from '../../helpers/mqtt';

const CHILD = join(__dirname, 'agent-child.js');
const WILL_DELAY_S = 1;

interface Agent {
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
}

async function spawnAgent(o: MqttTransportOptions): Promise<Agent> {
  const child = spawn(process.execPath, [CHILD, JSON.stringify(o)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b) => {
    stderr += b;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`agent process not ready in 15 s: ${stderr}`)), 15000);
    void exited.then((code) => {
      clearTimeout(t);
      reject(new Error(`agent process exited with ${code}: ${stderr}`));
    });
    child.stdout!.on('data', (b) => {
      if (String(b).includes('ready')) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  return { child, exited, stderr: () => stderr };
}

describe.each(BROKERS.map((b) => [b.name, b] as [string, BrokerCase]))('Last Will on %s', (_name, broker) => {
  const v = broker.protocolVersion;
  let url: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    url = await broker.setup();
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await broker.teardown();
  });

  test('SIGKILL: retained offline from the will; restarted: online; SIGTERM: offline', async () => {
    const node = mqttNodeId(`will${v}`);
    const opts: MqttTransportOptions = {
      endpoint: url,
      nodeId: node,
      protocolVersion: v,
      willDelayS: WILL_DELAY_S,
      sessionExpiryS: 60,
      backoff: { initialMs: 50, maxMs: 300 },
    };
    const watcher = await TestMqttClient.connect(url, v);
    const status = (from: number, what: string) =>
      watcher
        .waitFor((m) => m.topic.endsWith('/status') && m.payload.length > 0, what, 10000, from)
        .then((m) => m.json().status as string);
    try {
      await watcher.subscribe(`virtbus/v1/${node}/status`);
      let agent = await spawnAgent(opts);
      children.push(agent.child);
      expect(await status(0, 'online')).toBe('online');

      let mark = watcher.log.mark();
      const killedAt = Date.now();
      agent.child.kill('SIGKILL');
      await agent.exited;
      expect(await status(mark, 'the will (offline)')).toBe('offline');
      // MQTT 5: the broker waits the will delay (a quick reconnect would cancel it); 3.1.1 has none.
      if (v === 5) expect(Date.now() - killedAt).toBeGreaterThanOrEqual(WILL_DELAY_S * 1000 - 100);

      mark = watcher.log.mark();
      agent = await spawnAgent(opts);
      children.push(agent.child);
      expect(await status(mark, 'online again')).toBe('online');

      mark = watcher.log.mark();
      agent.child.kill('SIGTERM');
      expect(await agent.exited).toBe(0);
      expect(await status(mark, 'offline on a clean close')).toBe('offline');
      expect(agent.stderr()).not.toContain('warning');
    } finally {
      await watcher.close();
      await forgetSession(url, v, `virtbus-agent-${node}`);
      await clearRetained(url, v, `virtbus/v1/${node}/status`);
    }
  });
});
