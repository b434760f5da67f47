// `virtbus help` (src/cli/help.ts) stays in step with the contract by
// construction: every command of COMMANDS and every family is listed, and
// `help COMMAND` shows every key of its data schema — found here by a walk
// of the schema of our own, not by the module under test. Also: dotted keys
// of nested objects, the forms of a union, the suggestion for an unknown
// command, --json, and docs/cli-reference.md being what `help --markdown`
// prints now.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from '../../src/contract/commands';
import { commandText, markdownReference, overviewText, REGENERATE_REFERENCE } from '../../src/cli/help';
import { findCommand } from '../../src/cli/catalogue';
import { cli } from '../helpers/cli';

const REFERENCE = join(__dirname, '..', '..', 'docs', 'cli-reference.md');
const FAMILIES = ['node', 'domain', 'pool', 'vol', 'network', 'job', 'agent'];

/** Every key a person can type for a schema: properties, dotted into objects, through unions of objects. */
function keysOf(s: any, prefix = ''): string[] {
  const alts = s.anyOf ?? s.oneOf;
  if (alts && alts.every((a: any) => a.properties)) return alts.flatMap((a: any) => keysOf(a, prefix));
  if (!s.properties) return [];
  return Object.entries<any>(s.properties).flatMap(([k, p]) => {
    const nested = p.properties && Object.keys(p.properties).length ? p : undefined;
    const union = (p.anyOf ?? p.oneOf)?.every((a: any) => a.properties) ? p : undefined;
    return nested || union ? keysOf(p, `${prefix}${k}.`) : [`${prefix}${k}`];
  });
}

const names = Object.keys(COMMANDS);

test('help lists every command of the contract under its family, and the CLI verbs', async () => {
  const r = await cli(['help']);
  expect([r.code, r.stderr]).toEqual([0, '']);
  expect(r.stdout).toBe(`${overviewText()}\n`);
  for (const f of FAMILIES) expect(r.stdout).toMatch(new RegExp(`^${f}: `, 'm'));
  const families = [...new Set(names.map((n) => n.split('.')[0]))];
  expect(FAMILIES).toEqual(expect.arrayContaining(families));
  for (const n of names) {
    const line = r.stdout.split('\n').find((l) => l.startsWith(`  ${n} `));
    expect(line).toBeDefined();
    expect(line).toContain((COMMANDS as any)[n].summary);
    // under its own family: the nearest family heading above it
    const above = r.stdout.slice(0, r.stdout.indexOf(line!)).match(/^([a-z]+): /gm)!;
    expect(above[above.length - 1]).toBe(`${n.split('.')[0]}: `);
  }
  for (const verb of ['watch', 'nodes', 'job watch ID', 'keygen', 'completion bash|zsh', 'help'])
    expect(r.stdout).toMatch(new RegExp(`^  ${verb.replace(/\|/g, '\\|')} `, 'm'));
  // long-running ones are marked
  expect(r.stdout).toMatch(/^ {2}vol\.create +create a volume \(a job when large\)$/m);
  expect(r.stdout).toMatch(/^ {2}domain\.migrate +live-migrate .*\(job\)$/m);
});

test('help COMMAND shows every key of the data schema of every command, with type and required', () => {
  let keys = 0;
  for (const n of names) {
    const text = commandText(findCommand(n)!);
    expect(text.startsWith(`${n}: ${(COMMANDS as any)[n].summary}`)).toBe(true);
    const schema = (COMMANDS as any)[n].data;
    const expected = keysOf(schema);
    if (expected.length === 0) expect(text).toContain('No arguments.');
    for (const k of expected) {
      keys++;
      const row = text.split('\n').find((l) => l.startsWith(`${k} `));
      if (!row) throw new Error(`help ${n} does not show '${k}':\n${text}`);
      expect(row).toMatch(/ (yes|no|with [a-z.]+)( \(form [0-9, ]+\))? /);
    }
  }
  expect(keys).toBeGreaterThan(100);
});

test('nested objects show dotted keys, required within their parent; unions of objects show their forms', async () => {
  const viaHelp = await cli(['help', 'domain.migrate']);
  const viaFlag = await cli(['domain.migrate', '--help']);
  expect(viaHelp.code).toBe(0);
  expect(viaFlag).toEqual(viaHelp);
  const row = (text: string, key: string) =>
    text
      .split('\n')
      .find((l) => l.startsWith(`${key} `))!
      .split(/\s{2,}/);
  expect(row(viaHelp.stdout, 'domain')).toEqual(['domain', 'string', 'yes', '-', 'domain name or UUID']);
  expect(row(viaHelp.stdout, 'destination.uri')).toEqual(['destination.uri', 'string', 'with destination', '-', '-']);
  expect(row(viaHelp.stdout, 'destination.migrateUri')).toEqual(['destination.migrateUri', 'string', 'no', '-', '-']);
  expect(row(viaHelp.stdout, 'to').slice(0, 3)).toEqual(['to', 'string /^[A-Za-z0-9_-]{1,64}$/', 'no']);
  expect(row(viaHelp.stdout, 'bandwidthMiBs').slice(0, 3)).toEqual(['bandwidthMiBs', 'integer >= 1', 'no']);
  expect(row(viaHelp.stdout, 'onTimeout').slice(0, 2)).toEqual(['onTimeout', 'abort|postcopy']);
  expect(viaHelp.stdout).toMatch(/--no-wait\s+prints the job id/);

  const disk = commandText(findCommand('domain.attachDisk')!);
  expect(row(disk, 'source.path').slice(2, 3)).toEqual(['yes (form 1)']);
  expect(row(disk, 'source.volume').slice(2, 3)).toEqual(['yes (form 2)']);
  expect(disk).toContain(
    'source: give the keys of one form: form 1 (source.path) or form 2 (source.pool, source.volume)',
  );
  const vol = commandText(findCommand('vol.create')!);
  expect(row(vol, 'pool').slice(2, 3)).toEqual(['yes']); // in both forms: no form to name
  expect(vol).toContain(
    'Give the keys of one form: form 1 (name, capacityBytes, format, allocationBytes) or form 2 (xml)',
  );
});

test('an unknown command says so and suggests the closest names, for help and for sending (exit 2)', async () => {
  const h = await cli(['help', 'domian.migrate']);
  expect([h.code, h.stdout]).toEqual([2, '']);
  expect(h.stderr).toBe(
    "virtbus: unknown command 'domian.migrate'; did you mean 'domain.migrate'? ('virtbus help' lists them all)\n",
  );
  const send = await cli(['--bus', 'amqp://127.0.0.1:1', 'start', 'domain=x']);
  expect(send.code).toBe(2);
  expect(send.stderr).toMatch(
    /^virtbus: unknown command 'start'; did you mean .*'domain\.start'.*'network\.start'.*'pool\.start'/,
  );
  const nothing = await cli(['help', 'zzzzzz']);
  expect(nothing.stderr).toBe("virtbus: unknown command 'zzzzzz' ('virtbus help' lists them all)\n");
});

test('--json gives the same facts as data', async () => {
  const all = JSON.parse((await cli(['help', '--json'])).stdout);
  expect(all.families.map((f: any) => f.family)).toEqual(FAMILIES);
  expect(all.families.flatMap((f: any) => f.commands.map((c: any) => c.name)).sort()).toEqual([...names].sort());
  expect(all.verbs.map((v: any) => v.name)).toEqual(['watch', 'nodes', 'job watch', 'keygen', 'completion', 'help']);
  const mig = JSON.parse((await cli(['help', 'domain.migrate', '--json'])).stdout);
  expect(mig).toMatchObject({ name: 'domain.migrate', family: 'domain', job: 'always', mutating: true });
  expect(mig.arguments.map((a: any) => a.name)).toEqual(keysOf((COMMANDS as any)['domain.migrate'].data));
  expect(mig.arguments.find((a: any) => a.name === 'destination.uri')).toEqual({
    name: 'destination.uri',
    type: 'string',
    required: true,
    within: 'destination',
  });
});

test(`docs/cli-reference.md is what help --markdown prints now (regenerate: ${REGENERATE_REFERENCE})`, async () => {
  const onDisk = readFileSync(REFERENCE, 'utf8');
  const stale = `docs/cli-reference.md is stale; regenerate it with: ${REGENERATE_REFERENCE}`;
  if (onDisk !== markdownReference()) throw new Error(stale);
  const r = await cli(['help', '--markdown']);
  expect(r.code).toBe(0);
  if (r.stdout !== onDisk) throw new Error(`${stale} (dist/ differs from src/: npm run build:ts first)`);
  for (const n of names) expect(onDisk).toContain(`#### ${n}\n`);
  expect(onDisk).toMatch(/^<!-- generated by `virtbus help --markdown`/);
});
