/**
 * Shutdown is bounded whatever the broker does (issue 13, item 5). A private
 * RabbitMQ node (never the system one) raises a memory alarm
 * (`rabbitmqctl set_vm_memory_high_watermark` with a tiny fraction): it then
 * blocks every publishing connection, so the agent's events and its
 * `offline` are never confirmed and a `basic.cancel` may never be answered.
 * SIGTERM must still end the process within --drain (plus a second for the
 * process to go), with exit code 0 and each blocked step logged as such.
 *
 * The agent heartbeats every second, so it is publishing when the alarm
 * comes; the test waits until the broker lists the agent's connection as
 * `blocked` before the signal (the scenario really happened). The node is
 * taken down in afterAll, also after a failure.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentRun, agentArgs } from '../helpers/agent-process';
import { cleanupAfterEach } from '../helpers/cleanup';
import { waitForAsync } from '../helpers/fault-lab';
import { PrivateBroker, downAll } from '../helpers/private-brokers';
import { testNode } from '../helpers/agent';
import { deleteNodeKeys } from '../helpers/redis';

jest.setTimeout(120_000);

const DRAIN_S = 6;
let rabbit: PrivateBroker;
const defer = cleanupAfterEach();

beforeAll(async () => {
  rabbit = await PrivateBroker.up('rabbitmq', 'alarm');
});

afterAll(async () => {
  await downAll();
});

test('SIGTERM during a broker memory alarm: the agent exits within --drain, each blocked step bounded', async () => {
  const node = testNode('alarm');
  const dir = mkdtempSync(join(tmpdir(), 'virtbus-alarm-'));
  defer('state dir', () => rmSync(dir, { recursive: true, force: true }));
  defer('redis keys', () => deleteNodeKeys(node));
  const args = agentArgs({ node, bus: rabbit.url, libvirtUri: 'test:///default', stateDir: dir });
  // agentArgs sets --heartbeat 0 and --drain 5; later flags win
  const agent = await AgentRun.start([...args, '--heartbeat', '1', '--drain', String(DRAIN_S)]);
  defer('agent', () => agent.kill());
  defer('memory alarm off', async () => {
    await rabbit.ctl('set_vm_memory_high_watermark', '0.4').catch(() => undefined);
  });

  await rabbit.ctl('set_vm_memory_high_watermark', '0.000001');
  const blocked = await waitForAsync(
    async () => {
      const rows = (await rabbit.ctl('list_connections', 'state')).split('\n').map((l) => l.trim());
      return rows.includes('blocked') || undefined;
    },
    "the agent's connection to be blocked by the memory alarm",
    20_000,
  );
  expect(blocked).toBe(true);
  await new Promise((r) => setTimeout(r, 1500)); // a few more heartbeats wait for confirms

  const t0 = Date.now();
  agent.child.kill('SIGTERM');
  const code = await agent.exited;
  const took = Date.now() - t0;
  expect({ code, withinBound: took <= DRAIN_S * 1000 + 1500 }).toEqual({ code: 0, withinBound: true });
  // the waits that could not finish were cut by their limits, not by the backstop
  const failed = agent.logs.filter((l) => l.msg === 'shutdown step failed').map((l) => l.step);
  expect(failed).toEqual(expect.arrayContaining(['flush events']));
  expect(agent.logs.some((l) => l.msg === 'shutdown overran its bound: exiting now')).toBe(false);
  expect(agent.logs.some((l) => l.msg === 'stopped')).toBe(true);
  console.log(
    `memory alarm: SIGTERM to exit ${took} ms (bound ${DRAIN_S} s); steps cut by their limits: ${failed.join(', ')}`,
  );
});
