// A command's data from the command line (src/cli/args.ts): key=value with
// JSON values, one JSON object, dotted keys that nest, conflicts, -f FILE and
// -f - (stdin) with words on top, and keys the schema does not know refused
// before anything is sent. The CLI part runs the real CLI against a real
// agent (test driver) over RabbitMQ.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError, checkKeys, parseData, readData } from '../../src/cli/args';
import { COMMANDS } from '../../src/contract/commands';
import { AMQP_URL } from '../helpers/amqp-client';
import { agentCleanup, spawnTestDriverAgent, type AgentProcess } from '../helpers/agent-process';
import { testNode } from '../helpers/agent';
import { cleanupAll } from '../helpers/cleanup';
import { cli } from '../helpers/cli';

const noFile = { readFile: () => '', readStdin: async () => '' };

describe('key=value words', () => {
  test('values that are JSON are parsed, others stay strings; one JSON object is the whole data', () => {
    expect(parseData(['domain=web', 'vcpus=2', 'live=true', 'tags=["a"]', 'title="42"', 'path=/x=y'])).toEqual({
      domain: 'web',
      vcpus: 2,
      live: true,
      tags: ['a'],
      title: '42',
      path: '/x=y',
    });
    expect(parseData(['{"domain":"web","destination":{"uri":"qemu:///system"}}'])).toEqual({
      domain: 'web',
      destination: { uri: 'qemu:///system' },
    });
  });

  test('dotted keys build nested objects, at any depth, next to plain keys', () => {
    expect(
      parseData(['domain=web', 'source.pool=default', 'source.volume=disk1', 'a.b.c=1', 'a.b.d=x', 'a.e=false']),
    ).toEqual({
      domain: 'web',
      source: { pool: 'default', volume: 'disk1' },
      a: { b: { c: 1, d: 'x' }, e: false },
    });
  });

  test('a key given twice keeps its last value; a key that is a value and an object is refused, naming both', () => {
    expect(parseData(['source.pool=a', 'source.pool=b'])).toEqual({ source: { pool: 'b' } });
    expect(() => parseData(['a=1', 'a.b=2'])).toThrow(
      new UsageError("'a.b=2' conflicts with 'a=1': 'a' cannot be both a value and an object"),
    );
    expect(() => parseData(['a.b=2', 'a=1'])).toThrow(
      new UsageError("'a=1' conflicts with 'a.b=2': 'a' cannot be both a value and an object"),
    );
    expect(() => parseData(['x.y.z=1', 'x.y=2'])).toThrow(/'x.y=2' conflicts with 'x.y.z=1'/);
    expect(() => parseData(['a..b=1'])).toThrow(/the key 'a..b' has an empty part/);
  });
});

describe('-f FILE and -f -', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'virtbus-args-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const fromDisk = (f: string) => ({
    file: f,
    readFile: (p: string) => readFileSync(p, 'utf8'),
    readStdin: async () => '',
  });

  test("the file's object is the data; words go on top of it, dotted ones into its objects", async () => {
    const f = file(
      'm.json',
      JSON.stringify({ domain: 'web', destination: { uri: 'qemu+tcp://b/system' }, live: true }),
    );
    expect(await readData([], fromDisk(f))).toEqual({
      domain: 'web',
      destination: { uri: 'qemu+tcp://b/system' },
      live: true,
    });
    expect(await readData(['destination.migrateUri=tcp://b', 'live=false'], fromDisk(f))).toEqual({
      domain: 'web',
      destination: { uri: 'qemu+tcp://b/system', migrateUri: 'tcp://b' },
      live: false,
    });
  });

  test('- reads stdin', async () => {
    const data = await readData(['inactive=true'], {
      file: '-',
      readFile: () => {
        throw new Error('not a file');
      },
      readStdin: async () => '{"domain":"test"}\n',
    });
    expect(data).toEqual({ domain: 'test', inactive: true });
  });

  test('a file that is not one JSON object, a missing file, a word through a value of the file, or data twice: refused', async () => {
    await expect(readData([], fromDisk(file('list.json', '[1]')))).rejects.toThrow(/must hold one JSON object/);
    await expect(readData([], fromDisk(file('bad.json', '{nope')))).rejects.toThrow(/bad\.json is not JSON/);
    await expect(readData([], fromDisk(join(dir, 'none.json')))).rejects.toThrow(/cannot read .*none\.json/);
    const f = file('s.json', '{"destination":"x"}');
    await expect(readData(['destination.uri=y'], fromDisk(f))).rejects.toThrow(
      `'destination.uri=y' conflicts with 'destination' from ${f}, which is not an object`,
    );
    await expect(readData(['{"domain":"a"}'], fromDisk(f))).rejects.toThrow(/give the data once/);
    await expect(readData(['{nope'], noFile)).rejects.toThrow(/the data is not a JSON object/);
  });
});

describe('keys the command does not take', () => {
  const check = (c: keyof typeof COMMANDS, data: unknown) => () => checkKeys(c, COMMANDS[c].data, data);

  test('are refused, listing the valid keys (dotted) and the closest', () => {
    expect(check('domain.migrate', { domain: 'a', bandwith: 5 })).toThrow(
      /^domain\.migrate: unknown argument 'bandwith' \(did you mean 'bandwidthMiBs'\?\); valid: domain, to, destination, destination\.uri, destination\.migrateUri, live,/,
    );
    expect(check('domain.migrate', { domain: 'a', destination: { url: 'x' } })).toThrow(
      /unknown argument 'destination\.url' \(did you mean 'destination\.uri'/,
    );
    expect(check('node.info', { x: 1 })).toThrow(/unknown argument 'x'; valid: none \(it takes no data\)/);
    expect(check('domain.get', { domain: 'a', b: 1, c: 2 })).toThrow(/unknown arguments 'b', 'c'/);
  });

  test('every key of every form of a union is taken; a value that is not an object is the agent’s to judge', () => {
    expect(check('vol.create', { pool: 'p', name: 'v', capacityBytes: 1 })).not.toThrow();
    expect(check('vol.create', { pool: 'p', xml: '<volume/>' })).not.toThrow();
    expect(check('vol.create', { pool: 'p', bogus: 1 })).toThrow(/unknown argument 'bogus'/);
    expect(
      check('domain.attachDisk', { domain: 'd', target: 'vdb', source: { pool: 'p', volume: 'v' } }),
    ).not.toThrow();
    expect(check('domain.attachDisk', { domain: 'd', target: 'vdb', source: { path: '/x', nope: 1 } })).toThrow(
      /unknown argument 'source\.nope'/,
    );
    expect(check('domain.migrate', { domain: 'd', destination: 'not an object' })).not.toThrow();
  });
});

describe('the CLI', () => {
  const node = testNode('cliargs');
  let agent: AgentProcess | undefined;
  let dir: string;
  const base = () => ['--bus', AMQP_URL, '--node', node];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'virtbus-cliargs-'));
    agent = await spawnTestDriverAgent(node);
  });
  afterAll(() =>
    cleanupAll([
      ...agentCleanup(node, () => agent),
      ['remove the data files', () => rmSync(dir, { recursive: true, force: true })],
    ]),
  );

  test('refuses an unknown key before connecting (no broker needed), exit 2', async () => {
    const r = await cli(['--bus', 'amqp://127.0.0.1:1', '--node', node, 'domain.get', 'domain=test', 'nmae=x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("virtbus: domain.get: unknown argument 'nmae'; valid: domain\n");
    const conflict = await cli(['--bus', 'amqp://127.0.0.1:1', 'domain.get', 'domain=test', 'domain.x=1']);
    expect([conflict.code, conflict.stderr]).toEqual([
      2,
      "virtbus: 'domain.x=1' conflicts with 'domain=test': 'domain' cannot be both a value and an object\n",
    ]);
  });

  test('-f - reads the data from stdin, -f FILE from a file, with key=value on top', async () => {
    const fromStdin = await cli([...base(), '--json', 'domain.get', '-f', '-'], { input: '{"domain":"test"}' });
    expect([fromStdin.code, fromStdin.stderr]).toEqual([0, '']);
    expect(JSON.parse(fromStdin.stdout)).toMatchObject({ ok: true, result: { name: 'test' } });

    writeFileSync(join(dir, 'xml.json'), '{"domain":"test"}');
    const fromFile = await cli([...base(), 'domain.xml', '-f', join(dir, 'xml.json'), 'inactive=true']);
    expect([fromFile.code, fromFile.stderr]).toEqual([0, '']);
    expect(fromFile.stdout).toMatch(/<name>test<\/name>/);

    const unknownInFile = await cli([...base(), 'domain.get', '-f', '-'], { input: '{"domain":"test","x":1}' });
    expect([unknownInFile.code, unknownInFile.stderr]).toEqual([
      2,
      "virtbus: domain.get: unknown argument 'x'; valid: domain\n",
    ]);
  });

  test('dotted keys reach the agent as objects: the data passes its schema (no BAD_REQUEST)', async () => {
    // the agent validates data against the same schema: a flat 'destination.uri' key would be BAD_REQUEST
    // (the test driver cannot migrate, and nothing listens on 127.0.0.3: the job fails, but not on its data)
    const r = await cli([
      ...base(),
      '--json',
      'domain.migrate',
      'domain=test',
      'destination.uri=qemu+tcp://127.0.0.3/system',
      'destination.migrateUri=tcp://127.0.0.3',
    ]);
    const reply = JSON.parse(r.stdout);
    expect(reply.ok).toBe(false);
    expect(reply.error.code).not.toBe('BAD_REQUEST');
    expect(reply.error.message).toContain('qemu+tcp://127.0.0.3/system'); // destination.uri, as the agent read it
  });

  test('an error reply is one line on stderr, exit 1; --json prints the reply on stdout', async () => {
    const r = await cli([...base(), 'domain.start', 'domain=vm9']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^virtbus: domain\.start: NOT_FOUND: [^\n]+ \(libvirt VIR_ERR_NO_DOMAIN\)\n$/);
    const j = await cli([...base(), '--json', 'domain.start', 'domain=vm9']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });
});
