// The SDK examples (examples/sdk/, compiled to dist/examples/sdk/ by
// npm test's build) run as programs against a real agent, over RabbitMQ and
// Mosquitto MQTT 5, and print what they say they print.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Agent } from '../../src/agent/agent';
import { AmqpTransport } from '../../src/bus/amqp';
import { MqttTransport } from '../../src/bus/mqtt';
import { AMQP_URL, TestClient, deleteNodeQueues } from '../helpers/amqp-client';
import { startAgent, testNode } from '../helpers/agent';
import { MOSQUITTO_V5, forgetAgent } from '../helpers/mqtt';

const DIR = join(__dirname, '..', '..', 'dist', 'examples', 'sdk');
const run = async (name: string, args: string[]) => {
  const file = join(DIR, `${name}.js`);
  if (!existsSync(file)) throw new Error(`${file} is missing: build with \`npm run build:ts\` (npm test does)`);
  return (await promisify(execFile)(process.execPath, [file, ...args], { timeout: 60_000 })).stdout;
};

describe.each([
  { name: 'AMQP', mqtt: false },
  { name: 'MQTT 5', mqtt: true },
])('examples/sdk over $name', ({ mqtt }) => {
  const node = testNode('exsdk');
  let url: string;
  let agent: Agent | undefined;
  beforeAll(async () => {
    url = mqtt ? await MOSQUITTO_V5.setup() : AMQP_URL;
    agent = await startAgent({
      node,
      heartbeatS: 1,
      transport: mqtt
        ? new MqttTransport({ endpoint: url, nodeId: node, protocolVersion: 5 })
        : new AmqpTransport({ endpoint: url, nodeId: node }),
    });
  });
  afterAll(async () => {
    await agent?.close();
    if (mqtt) await forgetAgent(url, 5, node);
    else await deleteNodeQueues(node);
  });

  test('call.js: a typed call, a command without data, an error with its code', async () => {
    const out = await run('call', [url, node]);
    expect(out).toMatch(/^domain test [0-9a-f-]{36} is (running|paused)$/m);
    expect(out).toMatch(/^node .*: test:\/\/\/default$/m);
    expect(out).toMatch(/^error NOT_FOUND \(VIR_ERR_NO_DOMAIN\)$/m);
  });

  test('job.js: save and restore as jobs, each with its result', async () => {
    const out = await run('job', [url, node, 'test']);
    expect(out).toMatch(/^job [0-9a-f-]{36} started$/m);
    expect(out).toMatch(/^saved test to .*test\.example\.img$/m);
    expect(out).toMatch(/^restored test: running$/m);
  });

  test('events.js: the lifecycle events that happen while it listens', async () => {
    const file = join(DIR, 'events.js');
    if (!existsSync(file)) throw new Error(`${file} is missing: build with \`npm run build:ts\` (npm test does)`);
    const child = spawn(process.execPath, [file, url, node, '4'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    // the example says when it listens; the commands come from another client then
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        if (/^listening$/m.test(out)) resolve();
      });
      void exited.then(() => reject(new Error(`events.js ended before listening: ${out}`)));
    });
    const client = mqtt ? undefined : await TestClient.connect();
    try {
      if (client) {
        await client.call(node, 'domain.suspend', { domain: 'test' });
        await client.call(node, 'domain.resume', { domain: 'test' });
      } else {
        await agent!.dispatcher.execute({ id: `s-${Date.now()}`, name: 'domain.suspend', data: { domain: 'test' } });
        await agent!.dispatcher.execute({ id: `r-${Date.now()}`, name: 'domain.resume', data: { domain: 'test' } });
      }
    } finally {
      await client?.close();
    }
    expect(await exited).toBe(0);
    expect(out).toMatch(new RegExp(`^${node} test suspended seq=\\d+$`, 'm'));
    expect(out).toMatch(new RegExp(`^${node} test resumed seq=\\d+$`, 'm'));
    expect(out).toMatch(/^done$/m);
  });

  test('fleet.js: the fleet from presence and one outcome per node', async () => {
    const out = await run('fleet', [url]);
    expect(out).toMatch(new RegExp(`^online: .*\\b${node}\\b`, 'm'));
    expect(out).toMatch(new RegExp(`^${node} ok \\d+ domains$`, 'm'));
  });
});
