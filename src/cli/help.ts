// `virtbus help`: every command of the contract by family plus the CLI's
// verbs; `virtbus help COMMAND`: its arguments, from its data schema. The
// same facts as text, as data (--json) and as Markdown (--markdown, which is
// docs/cli-reference.md).
import {
  FAMILY_TITLES,
  VERBS,
  VERB_WORDS,
  contractCommands,
  families,
  findCommand,
  findVerb,
  type ContractCommand,
  type Verb,
} from './catalogue';
import { OPTIONS, optionByName, type OptionSpec } from './options';
import { argumentsOf, type Argument } from './schema-args';
import { closest } from './suggest';
import { table } from './format';

export const EXIT_CODES = 'Exit code: 0 ok, 1 the command failed (error reply), 2 usage or connection problem.';

export const REGENERATE_REFERENCE = 'npm run build:ts && npm run -s virtbus -- help --markdown > docs/cli-reference.md';

const JOB_NOTE =
  'A long-running command (a job): the agent replies when it ends and publishes virtbus.event.job.* on the way. ' +
  'On a terminal a progress bar shows its course (one line per event otherwise). --no-wait prints the job id ' +
  '(the command id) and returns once the agent has the job — its job.started event came or job.get finds it — ' +
  "which means it runs to its end without this client; it does not say how it ends: 'virtbus job watch ID' " +
  're-attaches and exits by its outcome.';

/** Text broken into lines of at most `width` characters, at spaces. */
export function wrap(text: string, width = 100): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].join('\n');
}

/** The summary as help shows it: jobs and planned commands marked. */
export function summaryText(c: ContractCommand): string {
  let s = c.summary;
  if (c.job === 'always' && !/\(job\)\s*$/.test(s)) s += ' (job)';
  if (c.job === 'sometimes') s += ' (a job when large)';
  if (c.planned) s += ' [planned: answers UNSUPPORTED]';
  return s;
}

const requiredText = (a: Argument): string => {
  const form = a.form ? ` (form ${a.form.forms.join(', ')})` : '';
  if (!a.required) return `no${form}`;
  return a.within ? `with ${a.within}${form}` : `yes${form}`;
};

/** "the data is one of …" lines for commands whose data (or one key) takes one of several objects. */
function formNotes(args: Argument[]): string[] {
  const byAt = new Map<string, Map<number, string[]>>();
  for (const a of args)
    if (a.form) {
      const forms = byAt.get(a.form.at) ?? new Map<number, string[]>();
      for (const f of a.form.forms) forms.set(f, [...(forms.get(f) ?? []), a.name]);
      byAt.set(a.form.at, forms);
    }
  return [...byAt].map(
    ([at, forms]) =>
      `${at ? `${at}: give` : 'Give'} the keys of one form: ` +
      [...forms]
        .sort(([x], [y]) => x - y)
        .map(([f, names]) => `form ${f} (${names.join(', ')})`)
        .join(' or '),
  );
}

const usageOf = (c: ContractCommand, args: Argument[]): string => {
  const must = args.filter((a) => a.required && !a.within && !a.form).map((a) => `${a.name}=…`);
  const more = args.length > must.length ? ' [key=value …]' : '';
  return `virtbus [options] ${c.name}${must.length ? ` ${must.join(' ')}` : ''}${more}`;
};

const optionLine = (o: OptionSpec): string =>
  `${o.short ? `-${o.short}, ` : ''}--${o.name}${o.value ? ` ${o.value}` : ''}`;

function optionsText(list: OptionSpec[]): string[] {
  const width = Math.max(...list.map((o) => optionLine(o).length));
  return list.map((o) => `  ${optionLine(o).padEnd(width)}  ${o.description}`);
}

/** `virtbus help`. */
export function overviewText(): string {
  const cmds = contractCommands();
  const width = Math.max(...cmds.map((c) => c.name.length), ...VERBS.map((v) => v.name.length + 4));
  const out = [
    'virtbus: libvirt on the message bus, from the command line',
    '',
    'usage: virtbus [options] COMMAND [key=value … | JSON | -f FILE]   send a command to a node, print its reply',
    '       virtbus help COMMAND                                      its arguments (or: virtbus COMMAND --help)',
    '',
    'Data: key=value (values that are JSON are parsed: 3, true, ["a"]; dotted keys nest: destination.uri=…),',
    'one JSON object, or -f FILE / -f - (stdin) with key=value on top. Unknown keys are refused before sending.',
  ];
  for (const f of families()) {
    out.push('', `${f}: ${FAMILY_TITLES[f] ?? `${f}.* commands`}`);
    for (const c of cmds.filter((x) => x.family === f)) out.push(`  ${c.name.padEnd(width)}  ${summaryText(c)}`);
  }
  out.push('', 'CLI verbs:');
  for (const v of VERBS) out.push(`  ${verbTitle(v).padEnd(width)}  ${v.summary}`);
  out.push('', 'Connection options:', ...optionsText(OPTIONS.filter((o) => o.connection)));
  out.push('', 'Other options:', ...optionsText(OPTIONS.filter((o) => !o.connection)));
  out.push('', EXIT_CODES);
  return out.join('\n');
}

const verbTitle = (v: Verb): string =>
  v.name === 'job watch' ? 'job watch ID' : v.name === 'completion' ? 'completion bash|zsh' : v.name;

/** `virtbus help COMMAND` for a contract command. */
export function commandText(c: ContractCommand): string {
  const args = argumentsOf(c.data);
  const out = [`${c.name}: ${summaryText(c)}`, '', `usage: ${usageOf(c, args)}`];
  out.push(`       virtbus [options] ${c.name} '{"key": …}'   or   -f FILE   (- reads stdin)`);
  out.push('');
  if (args.length === 0) out.push('No arguments.');
  else
    out.push(
      table(
        args.map((a) => ({
          argument: a.name,
          type: a.type,
          required: requiredText(a),
          default: a.default,
          description: a.description,
        })),
      ),
      ...formNotes(args).map((n) => `\n${n}`),
    );
  if (c.job) out.push('', wrap(JOB_NOTE));
  if (c.job === 'sometimes')
    out.push('It is a job only for some data (vol.create: preallocating 1 GiB or more); otherwise it answers at once.');
  if (c.mutating) out.push('', 'Changes state: a read-only agent refuses it (FORBIDDEN).');
  if (c.planned) out.push('', 'Planned: in the contract, not implemented by this agent yet (UNSUPPORTED).');
  out.push('', EXIT_CODES);
  return out.join('\n');
}

/** `virtbus help VERB`. */
export function verbText(v: Verb): string {
  const opts = v.options.map((n) => optionByName(n)).filter((o): o is OptionSpec => o !== undefined);
  return [
    `${v.name}: ${v.summary}`,
    '',
    `usage: ${v.usage}`,
    ...(v.details?.length ? ['', ...v.details] : []),
    ...(opts.length ? ['', 'Options:', ...optionsText(opts)] : []),
  ].join('\n');
}

/** What `virtbus help NAME` says for a name that is neither a command nor a verb. */
export function unknownText(name: string): string {
  const near = closest(name, [...contractCommands().map((c) => c.name), ...VERBS.map((v) => v.name)]);
  return (
    `unknown command '${name}'` +
    (near.length ? `; did you mean ${near.map((n) => `'${n}'`).join(', ')}?` : '') +
    " ('virtbus help' lists them all)"
  );
}

export type HelpTopic =
  | { kind: 'overview' }
  | { kind: 'command'; command: ContractCommand }
  | { kind: 'verb'; verb: Verb }
  | { kind: 'unknown'; name: string };

/** What `help WORDS` is about: nothing (the overview), a command, a verb ('job watch'), or an unknown name. */
export function helpTopic(words: string[]): HelpTopic {
  if (words.length === 0) return { kind: 'overview' };
  const c = findCommand(words[0]);
  if (c) return { kind: 'command', command: c };
  const v = findVerb(words.slice(0, 2).join(' ')) ?? findVerb(words[0]);
  if (v) return { kind: 'verb', verb: v };
  if (words[0] === 'job' && VERB_WORDS.includes('job')) return { kind: 'verb', verb: findVerb('job watch')! };
  return { kind: 'unknown', name: words.join(' ') };
}

/** --json: the same facts as data. */
export function commandData(c: ContractCommand) {
  const { data: _schema, ...facts } = c;
  return { ...facts, summary: summaryText(c), arguments: argumentsOf(c.data) };
}

export function overviewData() {
  const cmds = contractCommands();
  return {
    families: families().map((f) => ({
      family: f,
      title: FAMILY_TITLES[f] ?? `${f}.* commands`,
      commands: cmds
        .filter((c) => c.family === f)
        .map(({ data: _schema, ...facts }) => ({ ...facts, summary: summaryText({ ...facts, data: undefined }) })),
    })),
    verbs: VERBS,
    options: OPTIONS,
    exitCodes: { 0: 'ok', 1: 'the command failed (error reply)', 2: 'usage or connection problem' },
  };
}

const md = (s: unknown): string =>
  s === undefined ? '' : String(typeof s === 'string' ? s : JSON.stringify(s)).replace(/\|/g, '\\|');
const code = (s: string): string => (s ? `\`${md(s)}\`` : '');

/** `virtbus help --markdown`: docs/cli-reference.md. */
export function markdownReference(): string {
  const cmds = contractCommands();
  const out = [
    '<!-- generated by `virtbus help --markdown` from src/contract/commands.ts and src/cli/: do not edit.',
    `     Regenerate with: ${REGENERATE_REFERENCE} -->`,
    '',
    '# virtbus command reference',
    '',
    '`virtbus [options] COMMAND [key=value … | JSON | -f FILE]` sends one command to a node and prints its reply.',
    'Values that are JSON are parsed (`3`, `true`, `["a"]`), others are strings; dotted keys nest',
    '(`destination.uri=…` is `{"destination": {"uri": …}}`); `-f FILE` (or `-f -`, stdin) gives a JSON object',
    'with key=value words on top. Keys the command does not take are refused before anything is sent.',
    '',
    EXIT_CODES,
    '',
    '## Options',
    '',
    '| option | description |',
    '| --- | --- |',
    ...OPTIONS.map((o) => `| ${code(optionLine(o))} | ${md(o.description)} |`),
    '',
    '## CLI verbs',
    '',
  ];
  for (const v of VERBS) {
    out.push(`### ${v.name}`, '', md(v.summary), '', '```', v.usage, '```', '');
    if (v.details?.length) out.push(v.details.join(' '), '');
  }
  out.push('## Commands', '');
  for (const f of families()) {
    out.push(`### ${f}: ${FAMILY_TITLES[f] ?? `${f}.* commands`}`, '', '| command | summary |', '| --- | --- |');
    for (const c of cmds.filter((x) => x.family === f))
      out.push(`| [${code(c.name)}](#${c.name.replace(/\./g, '')}) | ${md(summaryText(c))} |`);
    out.push('');
    for (const c of cmds.filter((x) => x.family === f)) {
      const args = argumentsOf(c.data);
      out.push(`#### ${c.name}`, '', md(summaryText(c)), '', '```', usageOf(c, args), '```', '');
      if (args.length === 0) out.push('No arguments.', '');
      else {
        out.push('| argument | type | required | default | description |', '| --- | --- | --- | --- | --- |');
        for (const a of args)
          out.push(
            `| ${code(a.name)} | ${code(a.type)} | ${requiredText(a)} | ${a.default === undefined ? '' : code(JSON.stringify(a.default))} | ${md(a.description)} |`,
          );
        out.push('', ...formNotes(args).flatMap((n) => [md(n), '']));
      }
      if (c.job) out.push(md(JOB_NOTE), '');
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}
