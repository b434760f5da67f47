// @virtbus/client as an orchestrator gets it (issue 15): `npm run pack:client`
// makes the tarball, `npm install <tarball>` puts it in an empty folder
// outside the repo with the build side of libvirt out of reach (PATH cut
// down to node's folder, /usr/bin and /bin; pkg-config pointed at nothing;
// no npm_config_* of ours), and there:
//   - nothing native was built or installed (no .node file, no binding.gyp);
//   - require() (CommonJS) and import (ESM) of the package work, and loading
//     every module it ships loads no native module: no process.dlopen, no
//     .node or build/Release in require.cache, no libvirt among the process's
//     shared objects;
//   - the installed bin (`npx virtbus --help`) prints its usage;
//   - a TypeScript file using the package type-checks against the shipped
//     declarations (the repo's tsc, strict, no skipLibCheck);
//   - a script of that folder calls a real agent (test driver, RabbitMQ) and
//     prints the domain, and so does the installed CLI.
// Needs the npm registry (the dependencies are installed from it) and, for
// the round trip, RabbitMQ on AMQP_URL (bash scripts/services.sh).
import { execFile, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { AMQP_URL, deleteNodeQueues } from '../helpers/amqp-client';
import { spawnAgent, removeAgentState, type AgentProcess } from '../helpers/agent-process';
import { cleanupAfterEach, cleanupAll } from '../helpers/cleanup';

const ROOT = join(__dirname, '..', '..');
const PKG_DIR = join(ROOT, 'packages', 'client');
const pkg = JSON.parse(readFileSync(join(PKG_DIR, 'package.json'), 'utf8'));
const rootPkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const TARBALL = join(ROOT, 'dist-pkg', `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.version}.tgz`);
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

jest.setTimeout(15 * 60_000);

let work: string; // the temp folder: the consumer project, an empty pkg-config dir
let app: string; // the consumer project the package is installed into
let bareEnv: NodeJS.ProcessEnv;

/**
 * A machine without libvirt's development side, as far as an install can
 * tell: only node's folder, /usr/bin and /bin on PATH, pkg-config finding no
 * .pc file at all, no npm_config_* from the npm that runs jest (its prefix
 * would point npm at the repo). Proxy settings and the npm cache and user
 * config go through: they are how this machine reaches the registry.
 */
function makeBareEnv(emptyPcDir: string): NodeJS.ProcessEnv {
  const pass = ['HOME', 'http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY'];
  const env: NodeJS.ProcessEnv = {
    PATH: [...new Set([dirname(process.execPath), '/usr/bin', '/bin'])].join(':'),
    PKG_CONFIG_PATH: '',
    PKG_CONFIG_LIBDIR: emptyPcDir,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  for (const k of pass) if (process.env[k] !== undefined) env[k] = process.env[k];
  for (const k of ['npm_config_registry', 'npm_config_cache', 'npm_config_userconfig'])
    if (process.env[k] !== undefined) env[k] = process.env[k];
  return env;
}

function run(cmd: string, args: string[], o: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }) {
  const r = spawnSync(cmd, args, {
    cwd: o.cwd,
    env: o.env ?? process.env,
    encoding: 'utf8',
    timeout: o.timeout ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    status: r.status,
    stdout: r.stdout ?? '',
    out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`,
  };
}
/** Runs or throws with the command's output. */
function must(cmd: string, args: string[], o: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }): string {
  const r = run(cmd, args, o);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${o.cwd}) exited with ${r.status}:\n${r.out}`);
  return r.stdout;
}

/**
 * The same without blocking jest's event loop: for what runs while an agent
 * of ours lives (its log pipe must keep being read).
 */
function runAsync(
  cmd: string,
  args: string[],
  o: { cwd: string; env: NodeJS.ProcessEnv; timeout: number },
): Promise<{ status: number | null; stdout: string; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { ...o, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ status, stdout, out: `${stdout}${stderr}${err && status === null ? String(err) : ''}` });
    });
  });
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    const s = statSync(p, { throwIfNoEntry: false });
    return s?.isDirectory() ? walk(p) : [p];
  });
}

/**
 * Prepended to the consumer's scripts: records every native module the
 * process loads (process.dlopen is how Node loads one), and at exit what
 * require.cache and the process's shared objects say.
 */
const NATIVE_WATCH = `
const __dlopened = [];
const __dlopen = process.dlopen;
process.dlopen = function (m, file, ...rest) { __dlopened.push(String(file)); return __dlopen.call(this, m, file, ...rest); };
function nativeReport() {
  return {
    dlopen: __dlopened,
    cache: Object.keys(require.cache).filter((k) => /\\.node$|build[\\\\/]Release|[\\\\/]src[\\\\/]libvirt[\\\\/]/.test(k)),
    sharedObjects: (process.report.getReport().sharedObjects || []).filter((s) => /libvirt|\\.node$/.test(s)),
  };
}
`;
const NO_NATIVE = { dlopen: [], cache: [], sharedObjects: [] };

beforeAll(async () => {
  const built = run('npm', ['run', '--silent', 'pack:client'], { cwd: ROOT, timeout: 600_000 });
  if (built.status !== 0) throw new Error(`npm run pack:client failed (${built.status}):\n${built.out}`);
  if (!existsSync(TARBALL)) throw new Error(`npm run pack:client made no ${TARBALL}:\n${built.out}`);
  work = mkdtempSync(join(tmpdir(), 'virtbus-client-pkg-'));
  app = join(work, 'app');
  mkdirSync(app);
  mkdirSync(join(work, 'no-pkg-config'));
  bareEnv = makeBareEnv(join(work, 'no-pkg-config'));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'orchestrator', version: '1.0.0', private: true }));
  must('npm', ['install', '--no-audit', '--no-fund', TARBALL], { cwd: app, env: bareEnv, timeout: 600_000 });
}, 20 * 60_000);

afterAll(() => cleanupAll([['temp folder', () => work && rmSync(work, { recursive: true, force: true })]]));

const defer = cleanupAfterEach();

test('the tarball: the compiled SDK and CLI with declarations, nothing of the agent', () => {
  expect(pkg.version).toBe(rootPkg.version);
  const files = must('tar', ['-tzf', TARBALL], { cwd: ROOT })
    .split('\n')
    .filter((f) => f && !f.endsWith('/'))
    .map((f) => f.replace(/^package\//, ''));
  expect(files).toEqual(
    expect.arrayContaining([
      'package.json',
      'README.md',
      'dist/src/client/index.js',
      'dist/src/client/index.d.ts',
      'dist/agent/virtbus.js',
    ]),
  );
  const foreign = files.filter(
    (f) =>
      /\.node$|binding\.gyp$|\.map$|^native\/|^build\/|(?<!\.d)\.ts$/.test(f) ||
      f.startsWith('dist/src/libvirt/') ||
      !/^(package\.json|README\.md|dist\/.+\.(js|d\.ts|json))$/.test(f),
  );
  expect(foreign).toEqual([]);
  const shipped = JSON.parse(readFileSync(join(app, 'node_modules', '@virtbus', 'client', 'package.json'), 'utf8'));
  expect(shipped.scripts ?? {}).toEqual({});
  expect(shipped.gypfile).toBeUndefined();
  for (const [name, range] of Object.entries(shipped.dependencies)) expect(rootPkg.dependencies[name]).toBe(range);
});

test('the install built and installed nothing native', () => {
  const tree = walk(join(app, 'node_modules')).map((f) => relative(app, f));
  expect(tree.filter((f) => /\.node$/.test(f))).toEqual([]);
  expect(tree.filter((f) => /(^|\/)binding\.gyp$/.test(f))).toEqual([]);
  expect(tree.filter((f) => /(^|\/)build\/Release\//.test(f))).toEqual([]);
  // none of the agent's dependencies came along
  for (const name of ['node-addon-api', 'node-gyp', 'bullmq', 'ioredis', 'prom-client', 'aedes'])
    expect(existsSync(join(app, 'node_modules', name))).toBe(false);
});

test('CommonJS: require() gives the SDK, and loading every shipped module loads no native one', () => {
  writeFileSync(
    join(app, 'use.cjs'),
    `${NATIVE_WATCH}
const { connect, VirtbusError, COMMANDS, isJobCommand, connectClient } = require('@virtbus/client');
// every module of the package, the lazily loaded ones (AMQP, MQTT, protobuf codec) too; not the bin (it runs)
const path = require('node:path');
const fs = require('node:fs');
const dist = path.join(path.dirname(require.resolve('@virtbus/client/package.json')), 'dist');
const all = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? all(path.join(d, e.name)) : [path.join(d, e.name)]);
const modules = all(dist).filter((f) => f.endsWith('.js') && !f.endsWith(path.join('agent', 'virtbus.js')));
for (const m of modules) require(m);
const e = new VirtbusError({ code: 'NOT_FOUND', message: 'no domain' }, { command: 'domain.get' });
console.log(JSON.stringify({
  connect: typeof connect,
  connectClient: typeof connectClient,
  error: e instanceof Error && e.code,
  commands: Object.keys(COMMANDS).length,
  job: isJobCommand('domain.migrate'),
  modules: modules.length,
  native: nativeReport(),
}));
`,
  );
  const out = JSON.parse(must(process.execPath, ['use.cjs'], { cwd: app, env: bareEnv }));
  expect(out).toMatchObject({ connect: 'function', connectClient: 'function', error: 'NOT_FOUND', job: true });
  expect(out.commands).toBeGreaterThan(30);
  expect(out.modules).toBeGreaterThan(20);
  expect(out.native).toEqual(NO_NATIVE);
});

test('ESM: import { connect } from the package', () => {
  writeFileSync(
    join(app, 'use.mjs'),
    `import { connect, VirtbusError, COMMANDS } from '@virtbus/client';
import sdk from '@virtbus/client';
console.log(JSON.stringify({ connect: typeof connect, error: typeof VirtbusError, get: 'domain.get' in COMMANDS, cjs: typeof sdk.connect }));
`,
  );
  const out = JSON.parse(must(process.execPath, ['use.mjs'], { cwd: app, env: bareEnv }));
  expect(out).toEqual({ connect: 'function', error: 'function', get: true, cjs: 'function' });
});

test('the installed bin: npx virtbus --help prints the usage', () => {
  expect(existsSync(join(app, 'node_modules', '.bin', 'virtbus'))).toBe(true);
  const r = run('npx', ['--no', '--', 'virtbus', '--help'], { cwd: app, env: bareEnv });
  if (r.status !== 0) throw new Error(`npx virtbus --help exited with ${r.status}:\n${r.out}`);
  expect(r.stdout).toMatch(/usage/i);
  expect(r.stdout).toMatch(/--bus\b/);
  expect(r.stdout).toMatch(/domain\.get/);
});

test('TypeScript: a consumer type-checks against the shipped declarations', () => {
  const consumer = `import { connect, VirtbusError, type Job, type CommandResult } from '@virtbus/client';

export async function main(): Promise<string> {
  const v = await connect({ bus: 'amqp://guest:guest@127.0.0.1:5672', node: 'hv1' });
  const d = await v.call('domain.get', { domain: 'test' });
  const state: 'running' | 'paused' | 'shutoff' | string = d.state;
  const memoryKiB: number = d.memoryKiB;
  const job: Job<CommandResult<'domain.save'>> = await v.call('domain.save', { domain: 'test', path: '/tmp/x' });
  const saved: string = (await job.result).path;
  // @ts-expect-error the shipped types are the contract's, not any: this command does not exist
  await v.call('domain.explode', { domain: 'test' });
  // @ts-expect-error missing required field
  await v.call('domain.get', {});
  try {
    await v.call('domain.start', { domain: 'test' });
  } catch (e) {
    if (e instanceof VirtbusError) return e.code + (e.libvirt?.name ?? '');
  }
  for await (const e of v.events({ object: 'domain', event: 'stopped' })) return e.type;
  await v.close();
  return state + memoryKiB + saved;
}
`;
  writeFileSync(join(app, 'consumer.ts'), consumer);
  writeFileSync(join(app, 'consumer.mts'), consumer);
  const common = [
    ...['--noEmit', '--strict', '--skipLibCheck', 'false', '--target', 'es2022', '--lib', 'es2022'],
    ...['--types', 'node', '--typeRoots', join(ROOT, 'node_modules', '@types'), '--pretty', 'false'],
  ];
  // the exports map (types condition), as CommonJS and as ESM
  must(
    process.execPath,
    [TSC, ...common, '--module', 'nodenext', '--moduleResolution', 'nodenext', 'consumer.ts', 'consumer.mts'],
    { cwd: app, env: bareEnv },
  );
  // the package's "types" field, for projects on the classic resolution
  must(process.execPath, [TSC, ...common, '--module', 'commonjs', '--moduleResolution', 'node10', 'consumer.ts'], {
    cwd: app,
    env: bareEnv,
  });
});

test('a round trip from the installed package: a script and the CLI call a real agent', async () => {
  const node = `pkg-client-${randomUUID().slice(0, 8)}`;
  let agent: AgentProcess | undefined;
  defer('agent queues', () => deleteNodeQueues(node));
  defer('agent state', () => removeAgentState(node));
  defer('agent', () => agent?.kill());
  try {
    agent = await spawnAgent(['--node-id', node, '--bus', AMQP_URL, '--libvirt-uri', 'test:///default']);
  } catch (e) {
    throw new Error(`could not start an agent on ${AMQP_URL} (is RabbitMQ up? bash scripts/services.sh): ${e}`);
  }
  writeFileSync(
    join(app, 'roundtrip.cjs'),
    `${NATIVE_WATCH}
const { connect } = require('@virtbus/client');
(async () => {
  const v = await connect({ bus: process.env.BUS, node: process.env.NODE_ID, timeoutMs: 30000 });
  try {
    const domain = await v.call('domain.get', { domain: 'test' });
    console.log(JSON.stringify({ domain, native: nativeReport() }));
  } finally {
    await v.close();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
`,
  );
  const env = { ...bareEnv, BUS: AMQP_URL, NODE_ID: node };
  const script = await runAsync(process.execPath, ['roundtrip.cjs'], { cwd: app, env, timeout: 60_000 });
  if (script.status !== 0) throw new Error(`roundtrip.cjs exited with ${script.status}:\n${script.out}`);
  const out = JSON.parse(script.stdout);
  expect(out.domain).toMatchObject({ name: 'test', uuid: expect.any(String), state: 'running' });
  expect(out.native).toEqual(NO_NATIVE);
  const cli = await runAsync(
    'npx',
    ['--no', '--', 'virtbus', '--bus', AMQP_URL, '--node', node, '--json', 'domain.get', 'domain=test'],
    { cwd: app, env: bareEnv, timeout: 60_000 },
  );
  if (cli.status !== 0) throw new Error(`npx virtbus domain.get exited with ${cli.status}:\n${cli.out}`);
  expect(cli.stdout).toMatch(/"name":\s*"test"/);
});
