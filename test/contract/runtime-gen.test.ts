// The agent checks commands with validators generated from the contract
// (src/contract/gen/): they must be what `npm run gen` renders now, give the
// same verdict and the same text as the schemas compiled at run time, and
// keep TypeBox and Ajv's compiler out of the agent's process.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMAND_NAMES, commandFlags } from '../../src/contract/catalogue';
import { COMMANDS, type CommandName } from '../../src/contract/commands';
import { CloudEvent } from '../../src/contract/envelope-schema';
import { validator } from '../../src/contract/validate';
import { checkCommandData, checkEnvelope } from '../../src/contract/validators';
import { renderRuntime } from '../../tools/contract/runtime-gen';
import { testNode } from '../helpers/agent';
import { agentCleanup, spawnTestDriverAgent, type AgentProcess } from '../helpers/agent-process';
import { TestClient } from '../helpers/amqp-client';
import { cleanupAfterEach } from '../helpers/cleanup';
import { generateCase, type GenContext } from '../helpers/fuzz/generator';
import { Rng } from '../helpers/fuzz/rng';

const root = join(__dirname, '..', '..');
const defer = cleanupAfterEach();

test('src/contract/gen/ is up to date (run `npm run gen`)', () => {
  for (const [path, text] of Object.entries(renderRuntime())) {
    expect([path, readFileSync(join(root, path), 'utf8')]).toEqual([path, text]);
  }
});

test("the catalogue lists the contract's commands in its order, with their flags", () => {
  expect(COMMAND_NAMES).toEqual(Object.keys(COMMANDS));
  for (const n of Object.keys(COMMANDS) as CommandName[]) {
    const s = COMMANDS[n] as { mutating: boolean; planned: boolean; job?: string };
    expect([n, commandFlags(n)]).toEqual([
      n,
      { mutating: s.mutating, planned: s.planned, ...(s.job && { job: s.job }) },
    ]);
  }
});

describe('generated validators against the schemas compiled at run time', () => {
  const envelope = validator(CloudEvent);
  const data = new Map<CommandName, (v: unknown) => string | undefined>();
  const compiled = (n: CommandName) => {
    let c = data.get(n);
    if (!c) data.set(n, (c = validator(COMMANDS[n].data)));
    return c;
  };

  test('the checked-in examples: every command data and envelope is accepted by both', () => {
    const dir = join(root, 'contracts', 'examples');
    let n = 0;
    for (const name of COMMAND_NAMES) {
      let env: { data?: unknown };
      try {
        env = JSON.parse(readFileSync(join(dir, `command.${name}.json`), 'utf8'));
      } catch {
        continue; // not every command has an example
      }
      expect([name, checkEnvelope(env)]).toEqual([name, undefined]);
      expect([name, checkCommandData(name, env.data ?? {})]).toEqual([name, compiled(name)(env.data ?? {})]);
      expect(checkCommandData(name, env.data ?? {})).toBeUndefined();
      n++;
    }
    expect(n).toBeGreaterThan(40);
  });

  test('4,000 fuzz cases: the same verdict and the same text, envelope and data', () => {
    const ctx: GenContext = {
      profile: 'amqp',
      node: 'gen-check',
      replyTo: 'amq.gen-x',
      oddReplyTo: ['odd'],
      maxMessageBytes: 1 << 20,
    };
    const rng = new Rng(20261202);
    let envelopes = 0;
    let datas = 0;
    let refused = 0;
    for (let i = 0; i < 4000; i++) {
      const c = generateCase(rng, 'G', 20261202, i, ctx);
      let v: unknown;
      try {
        v = JSON.parse(c.body.toString('utf8'));
      } catch {
        continue; // not JSON: refused before any schema
      }
      const want = envelope(v);
      expect([c.tag, checkEnvelope(v)]).toEqual([c.tag, want]);
      envelopes++;
      const e = v as { type?: unknown; data?: unknown };
      if (want || typeof e.type !== 'string' || !e.type.startsWith('virtbus.cmd.')) continue;
      const name = e.type.slice('virtbus.cmd.'.length);
      if (!Object.prototype.hasOwnProperty.call(COMMANDS, name)) continue;
      const d = e.data ?? {};
      const wantData = compiled(name as CommandName)(d);
      expect([c.tag, checkCommandData(name as CommandName, d)]).toEqual([c.tag, wantData]);
      datas++;
      if (wantData) refused++;
    }
    // the comparison saw plenty of both kinds, accepted and refused
    expect(envelopes).toBeGreaterThan(2000);
    expect(datas).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(50);
    expect(datas - refused).toBeGreaterThan(50);
  });
});

test("a running agent loads neither TypeBox nor Ajv's compiler, and refuses bad data with the generated code", async () => {
  const node = testNode('modules');
  const dir = mkdtempSync(join(tmpdir(), 'virtbus-modules-'));
  defer('remove the module list', () => rmSync(dir, { recursive: true, force: true }));
  const started: { agent?: AgentProcess } = {};
  for (const [what, step] of agentCleanup(node, () => started.agent)) defer(what, step);
  const list = join(dir, 'modules.json');
  const preload = join(dir, 'list.js');
  // every module the process ever loaded, written when it exits
  writeFileSync(
    preload,
    `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(list)}, JSON.stringify(Object.keys(require.cache))));\n`,
  );
  const agent = (started.agent = await spawnTestDriverAgent(node, [], { NODE_OPTIONS: `--require ${preload}` }));
  const client = await TestClient.connect();
  defer('close the client', () => client.close());
  expect((await client.call(node, 'domain.get', { domain: 'test' })).data).toMatchObject({ ok: true });
  const bad = await client.call(node, 'domain.get', { domain: 'test', extra: 1 });
  expect(bad.data.error).toMatchObject({ code: 'BAD_REQUEST' });
  expect(bad.data.error.message).toBe(
    `invalid data for domain.get: ${validator(COMMANDS['domain.get'].data)({ domain: 'test', extra: 1 })}`,
  );
  expect(await agent.stop()).toBe(0);
  const loaded = JSON.parse(readFileSync(list, 'utf8')) as string[];
  expect(loaded.some((m) => m.endsWith('/dist/src/contract/gen/validators.gen.js'))).toBe(true);
  expect(loaded.filter((m) => m.includes('@sinclair/typebox'))).toEqual([]);
  expect(loaded.filter((m) => /\/ajv\/dist\/(ajv|core|compile\/)/.test(m))).toEqual([]);
});
