// The README's first command on its own: `npm start` with no configuration
// runs the agent on libvirt's test driver with an in-process MQTT broker;
// the minimal `virtbus` client lists and suspends a domain and the lifecycle
// event arrives; SIGTERM stops it cleanly. Its state directory (as root
// /var/lib/virtbus by default, which a real agent on this machine may own) is
// a temporary one given by VIRTBUS_STATE_DIR and removed afterwards; the
// whole process group is killed if the agent does not stop on its own.
import { execFile, spawn } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { EMBEDDED_BUS_URL } from '../../src/agent/embedded-defaults';
import { MqttTestClient } from '../helpers/mqtt-client';

const root = join(__dirname, '..', '..');

/** The agent's node process below npm (npm → sh → bash → exec node). */
function agentPid(npmPid: number): number | undefined {
  const children = (pid: number): number[] => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const queue = [npmPid];
  while (queue.length) {
    const p = queue.shift()!;
    for (const c of children(p)) {
      if (readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('dist/agent/main.js')) return c;
      queue.push(c);
    }
  }
  return undefined;
}
const run = promisify(execFile);
const node = hostname()
  .replace(/[^A-Za-z0-9_-]/g, '-')
  .slice(0, 64);

test('npm start, then virtbus domain.list and domain.suspend, with the event', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'virtbus-embedded-'));
  // its own process group (detached), so that nothing of it can outlive the test
  const agent = spawn('npm', ['start'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, VIRTBUS_STATE_DIR: stateDir },
  });
  let stderr = '';
  agent.stderr.on('data', (b) => {
    stderr += b;
  });
  const exited = new Promise<number | null>((resolve) => agent.on('exit', (code) => resolve(code)));
  try {
    try {
      const deadline = Date.now() + 120000;
      while (!stderr.includes('In another terminal')) {
        if (Date.now() > deadline || agent.exitCode !== null) throw new Error(`npm start did not come up: ${stderr}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(stderr).toContain(EMBEDDED_BUS_URL);

      const watcher = await MqttTestClient.connect(EMBEDDED_BUS_URL, 4);
      await watcher.subscribe(`virtbus/v1/${node}/domain/+/lifecycle`);

      const cli = (...args: string[]) => run('npm', ['run', '-s', 'virtbus', '--', ...args], { cwd: root });
      const list = await cli('domain.list');
      expect(list.stdout).toMatch(/^UUID\s+NAME\s+ID\s+STATE\s+PERSISTENT$/m);
      expect(list.stdout).toMatch(/\btest\s+1\s+running\s+true$/m);

      const suspended = await cli('--json', 'domain.suspend', 'domain=test');
      expect(JSON.parse(suspended.stdout)).toMatchObject({ ok: true, result: { name: 'test', state: 'paused' } });
      const ev = await watcher.waitFor((m) => m.body?.data?.event === 'suspended', 'suspended event');
      expect(ev.body).toMatchObject({
        type: 'virtbus.event.domain.lifecycle',
        data: { node, domain: { name: 'test' }, event: 'suspended', detail: 'paused', state: 'paused' },
      });
      await watcher.close();

      // an error reply: exit 1 and one line on stderr with the contract code
      const missing = await cli('domain.get', 'domain=nope').catch((e: { code: number; stderr: string }) => e);
      expect(missing).toMatchObject({ code: 1, stderr: expect.stringMatching(/^virtbus: domain\.get: NOT_FOUND: /m) });
    } finally {
      // what Ctrl-C does to the agent: npm itself does not forward SIGTERM, so signal the agent process
      const pid = agentPid(agent.pid!);
      if (pid) process.kill(pid, 'SIGTERM');
      else killGroup(agent.pid!);
    }
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<string>((r) => {
      timer = setTimeout(() => r('still running 30 s after SIGTERM'), 30000);
    });
    expect(await Promise.race([exited, hung]).finally(() => clearTimeout(timer))).toBe(0);
    expect(stderr).not.toContain('uncaught');
  } finally {
    killGroup(agent.pid!); // whatever is left of npm, sh and the agent
    rmSync(stateDir, { recursive: true, force: true });
  }
}, 180000);

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    /* the group is gone */
  }
}
