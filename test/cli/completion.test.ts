// `virtbus completion bash|zsh` (src/cli/completion.ts): the bash script is
// loaded by a real bash and asked to complete, as readline would (COMP_WORDS,
// COMP_CWORD): command names, options, option values, and a command's
// argument keys — for every command of the contract. zsh is not installed
// here (and is not installed for this test): its script is checked for
// syntax with bash -n (it keeps to the syntax both shells share) and for
// its content.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS } from '../../src/contract/commands';
import { validKeys } from '../../src/cli/schema-args';
import { CLI } from '../helpers/cli';

const names = Object.keys(COMMANDS);
let dir: string;
let scriptFile: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'virtbus-completion-'));
  scriptFile = join(dir, 'virtbus.bash');
  writeFileSync(scriptFile, execFileSync(process.execPath, [CLI, 'completion', 'bash'], { encoding: 'utf8' }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const VERBS = ['watch', 'nodes', 'job', 'keygen', 'completion', 'help'];

/** What the completion offers for these words, the last one being completed. */
function complete(...words: string[]): string[] {
  const script = [
    `source '${scriptFile}'`,
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    '_virtbus_complete',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const out = execFileSync('bash', ['-c', script], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l);
}

test('bash: the script, as printed, loads and registers its function for virtbus', () => {
  const out = execFileSync(
    'bash',
    ['-c', `source <("${process.execPath}" "${CLI}" completion bash); complete -p virtbus`],
    {
      encoding: 'utf8',
    },
  );
  expect(out.trim()).toBe('complete -F _virtbus_complete virtbus');
});

test('bash: command names (every contract command and verb), by prefix', () => {
  expect(complete('virtbus', '').sort()).toEqual([...names, ...VERBS].sort());
  expect(complete('virtbus', 'dom')).toEqual(names.filter((n) => n.startsWith('dom')));
  expect(complete('virtbus', 'domain.snap')).toEqual([
    'domain.snapshot.create',
    'domain.snapshot.list',
    'domain.snapshot.revert',
    'domain.snapshot.delete',
  ]);
  // after options and their values too
  expect(complete('virtbus', '--bus', 'amqp://h', '--json', 'vol.c')).toEqual(['vol.create', 'vol.clone']);
  expect(complete('virtbus', 'help', 'network.st')).toEqual(['network.start']);
  expect(complete('virtbus', 'job', '')).toEqual(['watch']);
  expect(complete('virtbus', 'completion', '')).toEqual(['bash', 'zsh']);
});

test('bash: argument keys of a command as key=, dotted for nested objects, for every command', () => {
  expect(complete('virtbus', 'domain.migrate', 'dest')).toEqual([
    'destination=',
    'destination.uri=',
    'destination.migrateUri=',
  ]);
  expect(complete('virtbus', 'domain.migrate', 'domain=web', 'band')).toEqual(['bandwidthMiBs=']);
  expect(complete('virtbus', 'domain.attachDisk', 'source.')).toEqual([
    'source.path=',
    'source.pool=',
    'source.volume=',
  ]);
  // after key= (bash splits at =) nothing is offered: the value is the user's
  expect(complete('virtbus', 'domain.migrate', 'domain', '=', '')).toEqual([]);
  // every command in one bash: one line of keys per command
  const script = [
    `source '${scriptFile}'`,
    ...names.map(
      (n) => `COMP_WORDS=(virtbus '${n}' ''); COMP_CWORD=2; _virtbus_complete; echo "${n}: \${COMPREPLY[*]}"`,
    ),
  ].join('\n');
  const lines = execFileSync('bash', ['-c', script], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l)
    .map((l) => l.trimEnd());
  expect(lines).toEqual(
    names.map((n) =>
      `${n}: ${validKeys((COMMANDS as any)[n].data)
        .map((k) => `${k}=`)
        .join(' ')}`.trimEnd(),
    ),
  );
});

test('bash: options, and the values of the options that have a fixed set', () => {
  expect(complete('virtbus', '--no')).toEqual(['--node', '--no-wait', '--nodes']);
  expect(complete('virtbus', 'watch', '--object', '')).toEqual([
    'domain',
    'pool',
    'network',
    'agent',
    'job',
    'command',
  ]);
  expect(complete('virtbus', '--amqp-auth', 'e')).toEqual(['external']);
  expect(complete('virtbus', '--node', '')).toEqual([]);
  // -f completes file names
  expect(complete('virtbus', 'domain.define', '-f', '/etc/host')).toEqual(expect.arrayContaining(['/etc/hostname']));
});

test('zsh: the script is well-formed and offers the same commands, options and keys', () => {
  const zsh = spawnSync('bash', ['-c', 'command -v zsh'], { encoding: 'utf8' }).stdout.trim();
  const script = execFileSync(process.execPath, [CLI, 'completion', 'zsh'], { encoding: 'utf8' });
  if (zsh) {
    // zsh is here after all: let it parse the script
    const r = spawnSync(zsh, ['-n', '-c', script], { encoding: 'utf8' });
    expect([r.status, r.stderr]).toEqual([0, '']);
  }
  const parsed = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
  expect([parsed.status, parsed.stderr]).toEqual([0, '']);
  expect(script.split('\n')[0]).toBe('#compdef virtbus');
  expect(script).toMatch(/\n {2}compdef _virtbus virtbus\n/);
  for (const n of names) {
    expect(script).toContain(`\n    '${n}:`);
    const keys = validKeys((COMMANDS as any)[n].data);
    if (keys.length) expect(script).toContain(`    ${n}) echo '${keys.map((k) => `${k}=`).join(' ')}' ;;`);
  }
  for (const v of VERBS) expect(script).toContain(`\n    '${v}:`);
  expect(script).toContain('--no-wait');
  // zsh's own special parameters (commands, options, …) are never assigned
  expect(script).not.toMatch(/^\s*(local -a )?(commands|options|keys)\b/m);
  expect(script).toContain('local -a vb_commands vb_options vb_keys');
  // every single quote inside a quoted description is closed and reopened ('\'')
  expect(script).toContain(`'domain.save:save the memory state to a file in the agent'\\''s save directory (job)'`);
});
