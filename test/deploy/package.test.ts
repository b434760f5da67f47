// The Debian package end to end: `npm run package:deb` builds it, dpkg
// installs it (user, files, conffiles), the installed agent runs exactly as
// the installed unit's ExecStart=, Environment=, EnvironmentFile=, User=,
// Group=, SupplementaryGroups= and UMask= say — through setpriv, since
// systemd is not PID 1 here — and `dpkg --purge` leaves nothing behind.
//
// systemd's side of Type=notify is a NOTIFY_SOCKET of the test's
// (helpers/notify-socket.ts) with WATCHDOG_USEC from WatchdogSec=: READY=1,
// WATCHDOG=1 and STOPPING=1 must come from the main pid (NotifyAccess=main).
// WATCHDOG_PID is left out: systemd sets it to the main pid, which is not
// known before the start; the agent then takes the watchdog as its own.
//
// libvirt: the lab's qemu:///system, opened by the unit's user through its
// group libvirt. Debian's libvirtd asks polkit about non-root clients, which
// needs a D-Bus system bus this machine does not run; the lab's node 1 lets
// the libvirt group use its socket instead (deploy/lab/lab.sh), as a host
// without polkit would be configured.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { AMQP_URL, deleteNodeQueues } from '../helpers/amqp-client';
import { cleanupAll } from '../helpers/cleanup';
import { NotifySocket } from '../helpers/notify-socket';
import { freePort } from '../helpers/private-brokers';
import { UnitFile, serviceCommand } from '../helpers/systemd-unit';
import { NODE1_URI } from '../helpers/lab';

const ROOT = join(__dirname, '..', '..');
const PKG = 'virtbus-agent';
const UNIT = '/lib/systemd/system/virtbus-agent.service';
const pkgJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
const DEB = join(ROOT, 'dist-pkg', `${PKG}_${pkgJson.version}_${arch}.deb`);
const NODE = `pkg-${randomUUID().slice(0, 8)}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(cmd: string, args: string[], timeout = 120_000) {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    timeout,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}
/** Runs or throws with the command's output. */
function must(cmd: string, args: string[], timeout?: number): string {
  const r = run(cmd, args, timeout);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}:\n${r.out}`);
  return r.out;
}
const installed = () => /install ok installed/.test(run('dpkg-query', ['-W', '-f=${Status}', PKG]).out);
const getent = (db: string, key: string): string[] | undefined => {
  const r = run('getent', [db, key]);
  return r.status === 0 ? r.out.trim().split(':') : undefined;
};
const mode = (p: string) => {
  const s = statSync(p);
  return { mode: (s.mode & 0o7777).toString(8), uid: s.uid, gid: s.gid };
};

let installedByUs = false;
let contents: string[] = []; // the package's paths, '/usr/lib/virtbus/bin/node', …
const existedBefore = new Set<string>();
let agent: ChildProcess | undefined;
let notify: NotifySocket | undefined;
let stateDir: string | undefined;

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('the package test installs a .deb: run it as root');
  if (installed() || getent('passwd', 'virtbus') || getent('group', 'virtbus'))
    throw new Error(
      `${PKG} or the user/group virtbus is already on this machine (an earlier run's leftover?): ` +
        `remove it first (dpkg --purge ${PKG}; deluser --system virtbus; delgroup --system virtbus)`,
    );
  rmSync(DEB, { force: true });
  must('npm', ['run', '--silent', 'package:deb'], 900_000);
  // `dpkg-deb -c`: tar -tv lines, the path last ('./usr/bin/virtbus'; a link's ' -> target' after it)
  contents = must('dpkg-deb', ['-c', DEB])
    .split('\n')
    .map((l) => /^\S+\s+\S+\s+\d+\s+\S+\s+\S+\s+\.(\/.*?)\/?(?: -> .*)?$/.exec(l)?.[1])
    .filter((p): p is string => !!p && p !== '/');
  for (const p of contents) if (existsSync(p)) existedBefore.add(p);
}, 1_000_000);

afterAll(async () => {
  await cleanupAll([
    [
      'stop the agent',
      async () => {
        if (agent && agent.exitCode === null && agent.signalCode === null) {
          const gone = new Promise((r) => agent!.once('exit', r));
          agent.kill('SIGKILL');
          await gone;
        }
      },
    ],
    ['close the notify socket', () => notify?.close()],
    ["delete the node's queue", () => agent && deleteNodeQueues(NODE)],
    [
      `dpkg --purge ${PKG}`,
      () => {
        if (installedByUs) must('dpkg', ['--purge', PKG]);
      },
    ],
    ['remove the state directory', () => stateDir && rmSync(stateDir, { recursive: true, force: true })],
  ]);
}, 120_000);

test('npm run package:deb: the agent, production modules and its Node runtime; no tests, bench or dev tools', () => {
  const field = (f: string) => must('dpkg-deb', ['-f', DEB, f]).trim();
  expect([field('Package'), field('Version'), field('Architecture')]).toEqual([PKG, pkgJson.version, arch]);
  expect(field('Depends')).toMatch(/(^|, )libvirt0(,|$)/);
  expect(field('Depends')).toMatch(/(^|, )adduser(,|$)/);
  expect(must('dpkg-deb', ['--info', DEB, 'conffiles']).trim().split('\n')).toEqual([
    '/etc/virtbus/agent.yaml',
    '/etc/default/virtbus-agent',
  ]);
  const lib = '/usr/lib/virtbus';
  for (const p of [
    `${lib}/bin/node`,
    `${lib}/dist/agent/main.js`,
    `${lib}/dist/agent/virtbus.js`,
    `${lib}/dist/package.json`,
    `${lib}/build/Release/virtbus_libvirt.node`,
    `${lib}/package.json`,
    UNIT,
    '/etc/virtbus/agent.yaml',
    '/etc/default/virtbus-agent',
    '/usr/bin/virtbus',
    '/usr/sbin/virtbus-agent',
    '/usr/share/doc/virtbus-agent/examples/tls.conf',
    ...Object.keys(pkgJson.dependencies).map((d) => `${lib}/node_modules/${d}/package.json`),
  ])
    expect([p, contents.includes(p)]).toEqual([p, true]);
  // dev-only packages are those the lockfile marks "dev" (@types/node, say, is also a dependency's dependency)
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  const devOnly = new Set(
    Object.keys(lock.packages)
      .filter((k) => lock.packages[k].dev)
      .map((k) => `${lib}/${k}`),
  );
  const unwanted = contents.filter(
    (p) =>
      /^\/usr\/lib\/virtbus\/dist\/(bench|test|tools)(\/|$)/.test(p) ||
      /^\/usr\/lib\/virtbus\/dist\/.*\.(d\.ts|map|ts)$/.test(p) ||
      devOnly.has(p),
  );
  expect(devOnly.has(`${lib}/node_modules/jest`)).toBe(true); // the check itself
  expect(unwanted).toEqual([]);
});

test('dpkg -i: the files, the virtbus system user (group virtbus, + libvirt), the runtime and the addon', () => {
  installedByUs = true; // before: a dpkg -i that fails half-way leaves a package to purge too
  must('dpkg', ['-i', DEB]);
  for (const p of contents) expect([p, existsSync(p)]).toEqual([p, true]);

  const [, , uid, gid, , home, shell] = getent('passwd', 'virtbus')!;
  expect({ home, shell }).toEqual({ home: '/var/lib/virtbus', shell: '/usr/sbin/nologin' });
  expect(Number(uid)).toBeLessThan(1000); // a system user
  expect(getent('group', 'virtbus')![2]).toBe(gid);
  const groups = must('id', ['-Gn', 'virtbus']).trim().split(' ');
  expect(groups.includes('libvirt')).toBe(getent('group', 'libvirt') !== undefined);

  expect(mode('/var/lib/virtbus')).toEqual({ mode: '750', uid: Number(uid), gid: Number(gid) });
  expect(mode('/etc/virtbus/agent.yaml')).toEqual({ mode: '640', uid: 0, gid: Number(gid) });
  expect(mode('/etc/default/virtbus-agent')).toEqual({ mode: '600', uid: 0, gid: 0 });

  // the bundled runtime is the one that built the addon, and loads it as the service's user
  expect(must('/usr/lib/virtbus/bin/node', ['--version']).trim()).toBe(process.version);
  expect(must('runuser', ['-u', 'virtbus', '--', '/usr/sbin/virtbus-agent', '--help'])).toMatch(
    /^virtbus-agent \[options\]/,
  );
  expect(must('runuser', ['-u', 'virtbus', '--', '/usr/bin/virtbus', '--help'])).toMatch(
    /^usage: virtbus \[options\] COMMAND/m,
  );
  // the installed unit, its paths real now
  expect(run('systemd-analyze', ['verify', UNIT])).toEqual({ status: 0, out: '' });
});

test("the installed agent, run as the unit's ExecStart, User= and environment: ready, watchdog, stops with exit 0", async () => {
  const unit = UnitFile.parse(readFileSync(UNIT, 'utf8'));
  const cmd = serviceCommand(unit, { S: '/var/lib' }, (p) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined));
  const [, , uid, , , home, shell] = getent('passwd', cmd.user!)!;
  const groupId = getent('group', cmd.group!)![2];
  // systemd: initgroups() of User= plus SupplementaryGroups=, every one of which must exist
  const groups = new Set(must('id', ['-G', cmd.user!]).trim().split(' '));
  for (const g of cmd.supplementaryGroups) {
    const e = getent('group', g);
    if (!e) throw new Error(`SupplementaryGroups=${g}: no such group, systemd would not start the unit`);
    groups.add(e[2]);
  }
  const asUnitUser = [
    'setpriv',
    `--reuid=${uid}`,
    `--regid=${groupId}`,
    `--groups=${[...groups].join(',')}`,
    ...(unit.get('Service', 'NoNewPrivileges') === 'yes' ? ['--no-new-privs'] : []),
    ...(unit.all('Service', 'CapabilityBoundingSet').length === 0 ? ['--bounding-set=-all', '--inh-caps=-all'] : []),
    '--',
  ];

  // the lab's node 1, as the unit's user reaches it: group libvirt on the socket (lab.sh sets it up)
  const libvirtUri = NODE1_URI;
  const probe = run(asUnitUser[0], [...asUnitUser.slice(1), 'virsh', '-c', libvirtUri, 'uri'], 20_000);
  if (probe.status !== 0) {
    throw new Error(
      `user ${cmd.user} (group libvirt) cannot open ${libvirtUri} (${probe.out.trim()}): ` +
        'start the lab, which lets the libvirt group use the socket: `bash deploy/lab/lab.sh up` (npm test does)',
    );
  }

  const conn = await amqp.connect(AMQP_URL).catch((e: Error) => {
    throw new Error(
      `RabbitMQ at ${AMQP_URL} is not reachable (${e.message}): start it with \`bash scripts/services.sh\``,
    );
  });
  await conn.close();

  stateDir = mkdtempSync(join(tmpdir(), 'virtbus-pkg-state-'));
  chownSync(stateDir, Number(uid), Number(groupId));
  chmodSync(stateDir, 0o750);
  notify = await NotifySocket.open();
  const port = await freePort();
  const watchdogSec = Number(unit.get('Service', 'WatchdogSec'));
  const env: Record<string, string> = {
    // what systemd gives every service of the system instance (systemd.exec(5), "Environment variables")
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: home,
    USER: cmd.user!,
    LOGNAME: cmd.user!,
    SHELL: shell,
    INVOCATION_ID: randomBytes(16).toString('hex'),
    STATE_DIRECTORY: `/var/lib/${unit.get('Service', 'StateDirectory')}`,
    NOTIFY_SOCKET: notify.path,
    WATCHDOG_USEC: String(watchdogSec * 1_000_000),
    ...cmd.env,
    // the test's own: its broker, its node, its port, a state directory of its own
    VIRTBUS_BUS: AMQP_URL,
    VIRTBUS_NODE_ID: NODE,
    VIRTBUS_LIBVIRT_URI: libvirtUri,
    VIRTBUS_METRICS_LISTEN: `127.0.0.1:${port}`,
    VIRTBUS_STATE_DIR: stateDir,
  };
  let out = '';
  // descriptors above stderr are closed first (under `flock LOCK npx jest` one is the test lock)
  agent = spawn(
    'bash',
    [
      '-c',
      'for fd in /proc/$$/fd/*; do n=${fd##*/}; ((n > 2 && n != 255)) && eval "exec $n>&-"; done; umask "$0"; exec "$@"',
      unit.get('Service', 'UMask') ?? '0022',
      ...asUnitUser,
      ...cmd.argv,
    ],
    { cwd: unit.get('Service', 'WorkingDirectory') ?? '/', env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  agent.stdout!.on('data', (b) => (out += b));
  agent.stderr!.on('data', (b) => (out += b));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) =>
    agent!.on('exit', (code, signal) => r({ code, signal })),
  );
  const pid = agent.pid!;
  const tail = () => out.split('\n').slice(-12).join('\n');

  // /readyz answers 200 once the agent is ready
  let last = '';
  const until = Date.now() + 60_000;
  for (;;) {
    const r = await httpGet(port, '/readyz').catch((e: Error) => ({ status: 0, body: e.message }));
    if (r.status === 200) break;
    last = `${r.status} ${r.body}`.slice(0, 300);
    if (agent.exitCode !== null) throw new Error(`the agent exited with ${agent.exitCode}:\n${tail()}`);
    if (Date.now() > until)
      throw new Error(
        `GET /readyz did not answer 200 within 60 s (last: ${last}); is /readyz in this build ` +
          `(grep -r readyz src; npm run build:ts)? The agent's last lines:\n${tail()}`,
      );
    await sleep(200);
  }
  expect((await httpGet(port, '/healthz')).status).toBe(200);

  // it runs as the unit's user and groups
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  expect(/^Uid:\s+(\d+)/m.exec(status)![1]).toBe(uid);
  expect(/^Groups:\s*(.*)$/m.exec(status)![1].trim().split(/\s+/).sort()).toEqual([...groups].sort());

  // sd_notify from the main pid: READY=1, then WATCHDOG=1 again within WatchdogSec/2 (and some slack)
  const ready = await notify.waitFor('READY', '1', 10_000);
  expect({ pid: ready.pid, uid: String(ready.uid) }).toEqual({ pid, uid });
  const ping1 = await notify.waitFor('WATCHDOG', '1', 5_000);
  const ping2 = await notify.waitFor('WATCHDOG', '1', (watchdogSec / 2) * 1000 + 5_000, ping1.t + 1);
  expect([ping1.pid, ping2.pid]).toEqual([pid, pid]);
  expect(ping2.t - ping1.t).toBeLessThan(watchdogSec * 1000);

  // SIGTERM (KillSignal=): STOPPING=1, exit 0 within TimeoutStopSec=
  const sig = unit.get('Service', 'KillSignal') as NodeJS.Signals;
  const stopAt = Date.now();
  agent.kill(sig);
  const timeoutStop = Number(unit.get('Service', 'TimeoutStopSec')) * 1000;
  let timer: NodeJS.Timeout | undefined;
  const end = await Promise.race([
    exited,
    new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), timeoutStop))),
  ]);
  clearTimeout(timer);
  if (!end) throw new Error(`the agent did not exit within TimeoutStopSec (${timeoutStop} ms) of ${sig}:\n${tail()}`);
  expect({ ...end, out: end.code === 0 ? '' : tail() }).toEqual({ code: 0, signal: null, out: '' });
  const stopping = await notify.waitFor('STOPPING', '1', 1_000, stopAt);
  expect(stopping.pid).toBe(pid);
}, 180_000);

test('dpkg --purge: no file, directory, user, group or state is left', () => {
  const r = run('dpkg', ['--purge', PKG]);
  expect(r.status).toBe(0);
  installedByUs = false;
  expect(installed()).toBe(false);
  const left = contents.filter((p) => !existedBefore.has(p) && existsSync(p));
  expect(left).toEqual([]);
  expect(existsSync('/var/lib/virtbus')).toBe(false);
  expect(getent('passwd', 'virtbus')).toBeUndefined();
  expect(getent('group', 'virtbus')).toBeUndefined();
  // and nothing printed a warning (the postrm warns instead of failing)
  expect(r.out).not.toMatch(/warning|could not/i);
});

function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (b) => (body += b));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}
