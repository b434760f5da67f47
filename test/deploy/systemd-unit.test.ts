// The deployment artefacts that can be checked without systemd as PID 1, a
// container runtime or a cluster: deploy/systemd/virtbus-agent.service (its
// settings, `systemd-analyze verify` with ExecStart pointed at this tree's
// build, `systemd-analyze security --offline`), the configuration examples
// (read by the agent's own loadConfig), deploy/kubernetes/daemonset.yaml and
// deploy/Containerfile. The package test (package.test.ts) runs the unit's
// command for real.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { DEFAULTS, loadConfig } from '../../src/agent/config';
import { UnitFile, expandSpecifiers, serviceCommand, splitWords } from '../helpers/systemd-unit';

const ROOT = join(__dirname, '..', '..');
const UNIT_PATH = join(ROOT, 'deploy', 'systemd', 'virtbus-agent.service');
const DROP_IN_PATH = join(ROOT, 'deploy', 'systemd', 'tls.conf');
const MAIN = join(ROOT, 'dist', 'agent', 'main.js');
const SYSTEMD_ANALYZE = '/usr/bin/systemd-analyze';
const unitText = readFileSync(UNIT_PATH, 'utf8');
const unit = UnitFile.parse(unitText);
/** %S and %d as systemd expands them for the system instance */
const SPECIFIERS = { S: '/var/lib', d: '/run/credentials/virtbus-agent.service' };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'virtbus-unit-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function analyze(args: string[], env: NodeJS.ProcessEnv = {}) {
  if (!existsSync(SYSTEMD_ANALYZE))
    throw new Error(`${SYSTEMD_ANALYZE} is missing: apt-get install systemd (the package, not a running systemd)`);
  return spawnSync(SYSTEMD_ANALYZE, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
}

/** The unit (and drop-ins) in a directory of its own, ExecStart pointed at this tree's build and node. */
function localCopy(name: string, dropIns: Record<string, string> = {}): string {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build it with \`npm run build:ts\``);
  const d = join(dir, name);
  mkdirSync(join(d, 'virtbus-agent.service.d'), { recursive: true });
  const text = unitText
    .replace(/^ExecStart=\/usr\/lib\/virtbus\/bin\/node /m, `ExecStart=${process.execPath} `)
    .replace(' /usr/lib/virtbus/dist/agent/main.js ', ` ${MAIN} `);
  expect(text).not.toContain('/usr/lib/virtbus/');
  writeFileSync(join(d, 'virtbus-agent.service'), text);
  for (const [file, body] of Object.entries(dropIns)) writeFileSync(join(d, 'virtbus-agent.service.d', file), body);
  return d;
}

/** systemd-analyze verify of that directory's unit with its drop-ins: exit 0 and not one warning. */
function verify(d: string): { status: number | null; out: string } {
  // SYSTEMD_UNIT_PATH (trailing ':' = plus the defaults) makes it read d/virtbus-agent.service.d/ too
  const r = analyze(['verify', 'virtbus-agent.service'], { SYSTEMD_UNIT_PATH: `${d}:` });
  return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}

test('a notify service with a watchdog, restarted on failure, stopped after the agent has drained', () => {
  expect(unit.get('Service', 'Type')).toBe('notify');
  expect(unit.get('Service', 'NotifyAccess')).toBe('main');
  expect(unit.get('Service', 'WatchdogSec')).toBe('30');
  expect(unit.get('Service', 'Restart')).toBe('on-failure');
  expect(unit.get('Service', 'KillSignal')).toBe('SIGTERM');
  // the agent drains for --drain, then its own backstop exits 3 s later: systemd's SIGKILL must come after both
  expect(Number(unit.get('Service', 'TimeoutStopSec'))).toBeGreaterThan(DEFAULTS.drainS + 3);
  expect(Number(unit.get('Service', 'TimeoutStopSec'))).toBeLessThanOrEqual(DEFAULTS.drainS + 15);

  const cmd = serviceCommand(unit, SPECIFIERS, () => undefined);
  expect(cmd.argv).toEqual([
    '/usr/lib/virtbus/bin/node',
    '/usr/lib/virtbus/dist/agent/main.js',
    '--config',
    '/etc/virtbus/agent.yaml',
  ]);
  expect(cmd.environmentFiles).toEqual([{ path: '/etc/default/virtbus-agent', optional: true }]);
  // two malloc arenas: not the agent's setting, glibc's (deploy/systemd/virtbus-agent.service)
  expect(cmd.env).toEqual({ VIRTBUS_STATE_DIR: '/var/lib/virtbus', MALLOC_ARENA_MAX: '2' });
});

test('runs as virtbus (+ libvirt) in a sandbox: no capabilities, three address families, no MemoryDenyWriteExecute', () => {
  expect(unit.get('Service', 'User')).toBe('virtbus');
  expect(unit.get('Service', 'Group')).toBe('virtbus');
  expect(unit.all('Service', 'SupplementaryGroups')).toEqual(['libvirt']);
  expect(unit.get('Service', 'StateDirectory')).toBe('virtbus');
  expect(unit.get('Service', 'ProtectSystem')).toBe('strict');
  // the save directory's default, <stateDir>/save, is writable ('-': before it exists too)
  expect(unit.all('Service', 'ReadWritePaths')).toEqual([
    `-${join(expandSpecifiers('%S/virtbus', SPECIFIERS), 'save')}`,
  ]);
  for (const k of ['ProtectHome', 'PrivateTmp', 'NoNewPrivileges'])
    expect([k, unit.get('Service', k)]).toEqual([k, 'yes']);
  expect(splitWords(unit.get('Service', 'RestrictAddressFamilies')!).sort()).toEqual([
    'AF_INET',
    'AF_INET6',
    'AF_UNIX',
  ]);
  expect(unit.has('Service', 'CapabilityBoundingSet')).toBe(true);
  expect(unit.all('Service', 'CapabilityBoundingSet')).toEqual([]);
  expect(unit.has('Service', 'MemoryDenyWriteExecute')).toBe(false);
  expect(unitText).toMatch(/^# No MemoryDenyWriteExecute=yes: V8's JIT/m);
  // credentials are opt-in (a missing source file would fail the unit): only in the drop-in
  expect(unit.has('Service', 'LoadCredential')).toBe(false);
  expect(unit.get('Install', 'WantedBy')).toBe('multi-user.target');
});

test('the TLS drop-in loads key, certificate and CA as credentials and hands their paths to the agent', () => {
  const withTls = unit.with(UnitFile.parse(readFileSync(DROP_IN_PATH, 'utf8')));
  expect(withTls.all('Service', 'LoadCredential')).toEqual([
    'tls.key:/etc/virtbus/tls/agent.key',
    'tls.crt:/etc/virtbus/tls/agent.crt',
    'ca.crt:/etc/virtbus/tls/ca.crt',
  ]);
  const cmd = serviceCommand(withTls, SPECIFIERS, () => undefined);
  const creds = SPECIFIERS.d;
  expect(cmd.env).toMatchObject({
    VIRTBUS_TLS_KEY: `${creds}/tls.key`,
    VIRTBUS_TLS_CERT: `${creds}/tls.crt`,
    VIRTBUS_TLS_CA: `${creds}/ca.crt`,
  });
  // and the agent takes them: the variables are its own
  const cfg = loadConfig([], { ...cmd.env, VIRTBUS_BUS: 'amqps://broker.example.org:5671' });
  expect([cfg.tlsKey, cfg.tlsCert, cfg.tlsCa]).toEqual([`${creds}/tls.key`, `${creds}/tls.crt`, `${creds}/ca.crt`]);
});

test('systemd-analyze verify accepts the unit, alone and with the TLS drop-in, and would say so if not', () => {
  expect(verify(localCopy('plain'))).toEqual({ status: 0, out: '' });
  expect(verify(localCopy('tls', { 'tls.conf': readFileSync(DROP_IN_PATH, 'utf8') }))).toEqual({ status: 0, out: '' });
  // the check itself: a misspelt setting in a drop-in is reported
  const bad = verify(localCopy('bad', { 'bad.conf': '[Service]\nProtectSytem=strict\n' }));
  expect(bad.out).toMatch(/Unknown key .*ProtectSytem/);
});

test('systemd-analyze security --offline rates the sandbox at most 4.0 ("OK")', () => {
  const r = analyze([
    'security',
    '--offline=yes',
    '--threshold=40',
    join(localCopy('security'), 'virtbus-agent.service'),
  ]);
  const rating = /Overall exposure level for virtbus-agent\.service: ([\d.]+)/.exec(r.stdout);
  expect({ status: r.status, rating: rating?.[1], stderr: r.stderr.trim() }).toEqual({
    status: 0,
    rating: expect.any(String),
    stderr: '',
  });
});

test("the package's agent.yaml is a valid configuration: qemu:///system and an amqp:// placeholder", () => {
  const cfg = loadConfig(['--config', join(ROOT, 'deploy', 'debian', 'agent.yaml')], {});
  expect(cfg.libvirtUri).toBe('qemu:///system');
  expect(cfg.bus).toMatch(/^amqp:\/\/virtbus:CHANGE-ME@/);
  expect(cfg.metricsListen).toBe('127.0.0.1:9477');
});

test('the DaemonSet: probes on /readyz and /healthz at 9477, node id from spec.nodeName, no privilege', () => {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'deploy', 'kubernetes', 'daemonset.yaml'), 'utf8'));
  for (const d of docs) expect(d.errors.map(String)).toEqual([]);
  const [configMap, ds] = docs.map((d) => d.toJS()) as any[];
  expect([configMap.kind, ds.kind]).toEqual(['ConfigMap', 'DaemonSet']);
  const pod = ds.spec.template.spec;
  expect(ds.spec.selector.matchLabels).toEqual(ds.spec.template.metadata.labels);
  expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(DEFAULTS.drainS + 3);
  expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
  expect(pod.containers).toHaveLength(1);
  const c = pod.containers[0];
  expect(c.args).toEqual(['--config', '/etc/virtbus/config/agent.yaml', '--metrics-listen', '0.0.0.0:9477']);
  expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 9477 });
  expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 9477 });
  expect(c.env).toContainEqual({ name: 'VIRTBUS_NODE_ID', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
  expect(c.securityContext).toMatchObject({
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  });
  const volume = (name: string) => pod.volumes.find((v: any) => v.name === name);
  const mount = (name: string) => c.volumeMounts.find((m: any) => m.name === name);
  expect(volume('libvirt-sock').hostPath).toEqual({ path: '/var/run/libvirt/libvirt-sock', type: 'Socket' });
  expect(mount('libvirt-sock').mountPath).toBe('/var/run/libvirt/libvirt-sock');
  expect(volume('tls').secret.secretName).toBe('virtbus-agent-tls');
  expect(mount('tls')).toMatchObject({ mountPath: '/etc/virtbus/tls', readOnly: true });
  expect(volume('config').configMap.name).toBe(configMap.metadata.name);
  expect(mount('config')).toMatchObject({ mountPath: '/etc/virtbus/config', readOnly: true });

  // what the pod would load is a valid configuration, its TLS files in the Secret's mount
  const file = join(dir, 'agent.yaml');
  writeFileSync(file, configMap.data['agent.yaml']);
  const cfg = loadConfig([...c.args.map((a: string) => (a === '/etc/virtbus/config/agent.yaml' ? file : a))], {
    VIRTBUS_NODE_ID: 'k8s-node-1',
  });
  expect(cfg).toMatchObject({ nodeId: 'k8s-node-1', libvirtUri: 'qemu:///system', metricsListen: '0.0.0.0:9477' });
  for (const f of [cfg.tlsCa, cfg.tlsCert, cfg.tlsKey]) expect(f.startsWith('/etc/virtbus/tls/')).toBe(true);
});

test('the Containerfile: two stages on one Node release, libvirt-dev to build, libvirt0 to run, as a non-root user', () => {
  const text = readFileSync(join(ROOT, 'deploy', 'Containerfile'), 'utf8');
  const from = [...text.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
  expect(from).toEqual([
    'docker.io/library/node:${NODE_VERSION}-bookworm',
    'docker.io/library/node:${NODE_VERSION}-bookworm-slim',
  ]);
  expect(text).toMatch(/^ARG NODE_VERSION=20$/m);
  expect(text).toMatch(/install -y --no-install-recommends libvirt-dev/);
  expect(text).toMatch(/install -y --no-install-recommends libvirt0/);
  expect(text).toMatch(/^USER node$/m);
  expect(text).toMatch(/^ENV MALLOC_ARENA_MAX=2$/m); // as the systemd unit
  expect(text).toMatch(/^ENTRYPOINT \["node", "\/usr\/lib\/virtbus\/dist\/agent\/main\.js"\]$/m);
  // everything the build stage copies from the repository is there
  for (const m of text.matchAll(/^COPY (?!--from)(.+) \S+$/gm))
    for (const p of m[1].split(' ')) expect([p, existsSync(join(ROOT, p))]).toEqual([p, true]);
});
