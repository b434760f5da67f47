// `virtbus completion bash|zsh` (src/cli/completion.ts): the bash script is
// loaded by a real bash and asked to complete, as readline would (COMP_WORDS,
// COMP_CWORD): command names, options, option values, and a command's
// argument keys — for every command of the contract. The zsh script is
// loaded by a real zsh after compinit and its function run as zsh's
// completion system would, with the same questions.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** zsh, or a failure that says how to get it (npm test installs it: scripts/test-packages.sh). */
function zshPath(): string {
  const zsh = spawnSync('bash', ['-c', 'command -v zsh'], { encoding: 'utf8' }).stdout.trim();
  if (!zsh) throw new Error('zsh is not installed: run `bash scripts/test-packages.sh` (npm test does)');
  return zsh;
}

/**
 * What the zsh completion offers for each line of words, the last one being
 * completed: the script is loaded by a real zsh after compinit, and its
 * function run with words/CURRENT/PREFIX as zsh's completion system sets
 * them; compadd, _describe and _files print what they were handed instead,
 * and the candidates are matched against the prefix as compadd would.
 */
function zshRun(lines: string[][]): string[][] {
  const q = (w: string) => `'${w.replace(/'/g, "'\\''")}'`;
  const script = [
    'autoload -U compinit && compinit -u -D',
    `source ${q(zshFile)}`,
    'compadd() { while (($#)) && [[ $1 != -- ]]; do shift; done; shift; print -rl -- "$@"; }',
    '_describe() { local -a items; items=("${(@P)${@[-1]}}"); print -rl -- "${items[@]%%:*}"; }',
    "_files() { print -r -- '<files>'; }",
    ...lines.flatMap((words) => [
      `words=(${words.map(q).join(' ')}); CURRENT=${words.length}; PREFIX=${q(words[words.length - 1]!)}`,
      '_virtbus; print -r -- "<end>"',
    ]),
  ].join('\n');
  const r = spawnSync(zshPath(), ['-f', '-c', script], { encoding: 'utf8' });
  expect([r.status, r.stderr]).toEqual([0, '']);
  const answers = r.stdout.split('<end>\n').slice(0, lines.length);
  expect(answers).toHaveLength(lines.length);
  return answers.map((a, i) => {
    const prefix = lines[i]![lines[i]!.length - 1]!;
    return a
      .split('\n')
      .filter((l) => l)
      .filter((c) => c === '<files>' || c.startsWith(prefix));
  });
}

let zshFile: string;
beforeAll(() => {
  zshFile = join(dir, 'virtbus.zsh');
  writeFileSync(zshFile, execFileSync(process.execPath, [CLI, 'completion', 'zsh'], { encoding: 'utf8' }));
});

test('zsh: the script, as printed, loads after compinit and registers _virtbus for virtbus', () => {
  const r = spawnSync(
    zshPath(),
    [
      '-f',
      '-c',
      `autoload -U compinit && compinit -u -D; source <("${process.execPath}" "${CLI}" completion zsh); print -r -- $_comps[virtbus]`,
    ],
    { encoding: 'utf8' },
  );
  expect([r.status, r.stderr, r.stdout.trim()]).toEqual([0, '', '_virtbus']);
  const script = readFileSync(zshFile, 'utf8');
  expect(script.split('\n')[0]).toBe('#compdef virtbus');
  // zsh's own special parameters (commands, options, …) are never assigned
  expect(script).not.toMatch(/^\s*(local -a )?(commands|options|keys)\b/m);
  // every single quote inside a quoted description is closed and reopened ('\'')
  expect(script).toContain(`'domain.save:save the memory state to a file in the agent'\\''s save directory (job)'`);
});

test('zsh: command names (every contract command and verb), by prefix', () => {
  const [all, dom, snap, afterOptions, help, job, completion] = zshRun([
    ['virtbus', ''],
    ['virtbus', 'dom'],
    ['virtbus', 'domain.snap'],
    ['virtbus', '--bus', 'amqp://h', '--json', 'vol.c'],
    ['virtbus', 'help', 'network.st'],
    ['virtbus', 'job', ''],
    ['virtbus', 'completion', ''],
  ]);
  expect(all!.sort()).toEqual([...names, ...VERBS].sort());
  expect(dom).toEqual(names.filter((n) => n.startsWith('dom')));
  expect(snap).toEqual([
    'domain.snapshot.create',
    'domain.snapshot.list',
    'domain.snapshot.revert',
    'domain.snapshot.delete',
  ]);
  expect(afterOptions).toEqual(['vol.create', 'vol.clone']);
  expect(help).toEqual(['network.start']);
  expect(job).toEqual(['watch']);
  expect(completion).toEqual(['bash', 'zsh']);
});

test('zsh: argument keys of a command as key=, dotted for nested objects, for every command', () => {
  const [dest, band, value, ...each] = zshRun([
    ['virtbus', 'domain.migrate', 'dest'],
    ['virtbus', 'domain.migrate', 'domain=web', 'band'],
    // after key= nothing is offered: the value is the user's
    ['virtbus', 'domain.migrate', 'domain='],
    ...names.map((n) => ['virtbus', n, '']),
  ]);
  expect(dest).toEqual(['destination=', 'destination.uri=', 'destination.migrateUri=']);
  expect(band).toEqual(['bandwidthMiBs=']);
  expect(value).toEqual([]);
  expect(each.map((keys, i) => `${names[i]}: ${keys.join(' ')}`.trimEnd())).toEqual(
    names.map((n) =>
      `${n}: ${validKeys((COMMANDS as any)[n].data)
        .map((k) => `${k}=`)
        .join(' ')}`.trimEnd(),
    ),
  );
});

test('zsh: options, and the values of the options that have a fixed set', () => {
  const [no, object, node, file] = zshRun([
    ['virtbus', '--no'],
    ['virtbus', 'watch', '--object', ''],
    ['virtbus', '--node', ''],
    // -f completes file names (zsh's own _files)
    ['virtbus', 'domain.define', '-f', '/etc/host'],
  ]);
  expect(no).toEqual(['--node', '--no-wait', '--nodes']);
  expect(object).toEqual(['domain', 'pool', 'network', 'agent', 'job', 'command']);
  expect(node).toEqual([]);
  expect(file).toEqual(['<files>']);
});
