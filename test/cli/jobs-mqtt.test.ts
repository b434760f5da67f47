// The CLI's long-running commands over MQTT 5 (Mosquitto), as over AMQP in
// progress.test.ts: a job answered once at its end with its course on
// stderr, `--no-wait` printing the job id once the agent has it, and `job
// watch` re-attaching by that id and exiting by the job's outcome — on an
// agent on libvirt's test driver (save and restore of its `test` domain).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { testNode } from '../helpers/agent';
import { agentStateDir, removeAgentState, spawnAgent, type AgentProcess } from '../helpers/agent-process';
import { cleanupAfterEach } from '../helpers/cleanup';
import { cli } from '../helpers/cli';
import { MOSQUITTO_V5, forgetAgent } from '../helpers/mqtt';

const defer = cleanupAfterEach();

test('over MQTT 5: a job waited for, then --no-wait and job watch by its id', async () => {
  const MQTT_URL = await MOSQUITTO_V5.setup(); // fails saying what to start when Mosquitto is not there
  const node = testNode('clijobmqtt');
  const started: { agent?: AgentProcess } = {};
  defer('forget its session and retained status', () => forgetAgent(MQTT_URL, 5, node));
  defer('remove its state', () => removeAgentState(node));
  defer('stop the agent', () => started.agent?.stop());
  started.agent = await spawnAgent([
    '--node-id',
    node,
    '--bus',
    MQTT_URL,
    '--mqtt-version',
    '5',
    '--libvirt-uri',
    'test:///default',
    '--heartbeat',
    '0',
  ]);
  const base = ['--bus', MQTT_URL, '--mqtt-version', '5', '--node', node];

  // waited for: the result on stdout, the job's course on stderr (not a terminal: one line per event)
  const save = await cli([...base, 'domain.save', 'domain=test', 'path=cli.sav']);
  expect([save.code, save.stderr]).toEqual([
    0,
    expect.stringMatching(/: started \(domain\.save\)\n[^]*: completed: succeeded\n$/),
  ]);
  expect(save.stdout).toMatch(/^path\s+\S+\/save\/cli\.sav$/m);
  expect(readdirSync(join(agentStateDir(node), 'save'))).toEqual(['cli.sav']);

  // --no-wait: the job id alone, once the agent has the job
  const restore = await cli([...base, '--no-wait', 'domain.restore', 'path=cli.sav']);
  expect([restore.code, restore.stderr]).toEqual([0, '']);
  const id = restore.stdout.trim();
  expect(id).toMatch(/^[0-9a-f-]{36}$/);

  // job watch re-attaches by the id and exits by the outcome (0), with the command's result
  const watched = await cli([...base, 'job', 'watch', id]);
  expect([watched.code, watched.stderr]).toEqual([0, '']);
  expect(watched.stdout).toMatch(new RegExp(`^job ${id}: domain\\.restore succeeded at `));
  expect(watched.stdout).toMatch(/^name\s+test$/m);
  const get = await cli([...base, '--json', 'domain.get', 'domain=test']);
  expect(JSON.parse(get.stdout)).toMatchObject({ ok: true, result: { state: 'running', reason: 'restored' } });

  // an id the agent has no job for: NOT_FOUND, exit 1
  const none = await cli([...base, 'job', 'watch', '00000000-0000-4000-8000-000000000000']);
  expect([none.code, none.stdout]).toEqual([1, '']);
  expect(none.stderr).toMatch(/^virtbus: job watch: NOT_FOUND: no job with command id/);
});
