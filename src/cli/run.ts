// The virtbus command line from its words to its exit code: what needs no
// broker (help, completion, keygen, every usage mistake) is settled before
// connecting; then one command, a job, a watch or the fleet's list.
// Exit code: 0 ok, 1 the command failed (error reply), 2 usage or connection.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { connectClient } from '../client/client';
import type { VirtbusClient } from '../client/types';
import { fleet } from '../client/fleet';
import { UsageError, checkKeys, readData } from './args';
import { findCommand, findVerb } from './catalogue';
import { bashCompletion, zshCompletion } from './completion';
import { connectionOf, type ConnectionValues } from './connect';
import { fleetExitCode, formatFleet, formatNodes } from './fleet';
import {
  commandData,
  commandText,
  helpTopic,
  markdownReference,
  overviewData,
  overviewText,
  unknownText,
  verbText,
} from './help';
import { INTERRUPTED, printReply, runJob, startJob, watchJob, type Out } from './job-run';
import { keygen } from './keygen';
import { parseArgsOptions } from './options';
import { eventLine, matches, useColour, watchFilter } from './watch';

export interface CliIo {
  stdout: Out;
  stderr: Out;
  /** all of stdin (for -f -) */
  readStdin: () => Promise<string>;
  env: NodeJS.ProcessEnv;
  /** resolves when the user asks to stop (SIGINT, SIGTERM): ends a watch */
  interrupted: Promise<void>;
}

/** The options as parsed (options.ts declares them). */
interface Values extends ConnectionValues {
  timeout?: string;
  json?: boolean;
  file?: string;
  'no-wait'?: boolean;
  all?: boolean;
  nodes?: string;
  domain?: string;
  event?: string;
  object?: string;
  out?: string;
  allow?: string;
  force?: boolean;
  markdown?: boolean;
  help?: boolean;
}

const parse = (argv: string[]) => {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: parseArgsOptions() });
  return { values: values as Values, positionals };
};

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parse(argv);
  } catch (e) {
    io.stderr.write(`virtbus: ${(e as Error).message} ('virtbus help' lists the options)\n`);
    return 2;
  }
  try {
    return await dispatch(parsed.values, parsed.positionals, io);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr.write(`virtbus: ${e.message}\n`);
    return 2;
  }
}

function help(words: string[], v: Values, io: CliIo): number {
  const out = (text: string) => io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  const json = (data: unknown) => out(JSON.stringify(data, null, 2));
  if (v.markdown) {
    if (words.length) throw new UsageError('help --markdown is the whole reference: give no command');
    out(markdownReference());
    return 0;
  }
  const topic = helpTopic(words);
  switch (topic.kind) {
    case 'overview':
      if (v.json) json(overviewData());
      else out(overviewText());
      return 0;
    case 'command':
      if (v.json) json(commandData(topic.command));
      else out(commandText(topic.command));
      return 0;
    case 'verb':
      if (v.json) json(topic.verb);
      else out(verbText(topic.verb));
      return 0;
    case 'unknown':
      throw new UsageError(unknownText(topic.name));
  }
}

function runKeygen(v: Values, io: CliIo): number {
  const keyId = v['key-id'];
  if (!keyId || !v.out)
    throw new UsageError(`keygen: --key-id ID and --out FILE are needed\n${verbText(findVerb('keygen')!)}`);
  let r;
  try {
    r = keygen({ keyId, out: v.out, allow: v.allow?.split(',').map((s) => s.trim()), force: v.force });
  } catch (e) {
    io.stderr.write(`virtbus keygen: ${(e as Error).message}\n`);
    return 2;
  }
  if (v.json) io.stdout.write(`${JSON.stringify(r)}\n`);
  else
    io.stdout.write(
      `private key: ${r.privateKeyFile} (keep it secret)\npublic key:  ${r.publicKeyFile}\n` +
        `add to the agents' trusted keys file ("keys": [ … ]):\n${JSON.stringify(r.entry, null, 2)}\n`,
    );
  return 0;
}

function seconds(v: Values): number | undefined {
  if (v.timeout === undefined) return undefined;
  const s = Number(v.timeout);
  if (!Number.isFinite(s) || s <= 0) throw new UsageError(`--timeout ${v.timeout}: a number of seconds above 0`);
  return s * 1000;
}

/** What to do once connected: everything the words say, checked, so a mistake never waits for a broker. */
type Action = (client: VirtbusClient, node: string) => Promise<number>;

interface Plan {
  what: string;
  run: Action;
  /** it handles Ctrl-C itself (a watch ends with 0, a job is left running with a hint); others end with 130 */
  followsInterrupt?: boolean;
}

async function plan(v: Values, words: string[], io: CliIo): Promise<Plan> {
  const [first, ...rest] = words;
  const timeoutMs = seconds(v);
  const jobIo = { stdout: io.stdout, stderr: io.stderr, json: Boolean(v.json), interrupted: io.interrupted };
  if (first === 'watch') {
    if (rest.length) throw new UsageError(`watch takes options, not '${rest.join(' ')}'`);
    const filter = watchFilter(v);
    return {
      what: 'watch',
      followsInterrupt: true,
      run: async (client, node) => {
        const colour = !v.json && useColour(io.stdout.isTTY, io.env);
        await client.watch((e) => {
          if (matches(filter, e)) io.stdout.write(`${v.json ? JSON.stringify(e) : eventLine(e, colour)}\n`);
        });
        if (!v.json) io.stderr.write(`virtbus: watching the events of node ${node} (Ctrl-C ends)\n`);
        await Promise.race([
          io.interrupted,
          client.lost.then(() => {
            throw new Error('the connection to the broker was lost');
          }),
        ]);
        return 0;
      },
    };
  }
  if (first === 'nodes') {
    return {
      what: 'nodes',
      run: async (client) => {
        const list = await fleet(client).nodes();
        io.stdout.write(`${v.json ? JSON.stringify(list) : formatNodes(list)}\n`);
        return 0;
      },
    };
  }
  if (first === 'job') {
    if (rest[0] !== 'watch' || rest.length !== 2)
      throw new UsageError(
        `usage: virtbus job watch ID (job.get, job.list and job.cancel are commands: 'virtbus help job.get')`,
      );
    return {
      what: 'job watch',
      followsInterrupt: true,
      run: (client, node) => watchJob(client, { node, id: rest[1], timeoutMs }, jobIo),
    };
  }
  const c = findCommand(first);
  if (!c) throw new UsageError(unknownText(first));
  const data = await readData(rest, {
    ...(v.file !== undefined && { file: v.file }),
    readFile: (p) => readFileSync(p, 'utf8'),
    readStdin: io.readStdin,
  });
  checkKeys(c.name, c.data, data);
  const toFleet = v.all || v.nodes !== undefined;
  if (v['no-wait'] && !c.job)
    throw new UsageError(`--no-wait is for long-running commands (jobs); ${c.name} answers at once`);
  if (v['no-wait'] && toFleet) throw new UsageError('--no-wait goes to one node, not with --all or --nodes');
  if (toFleet) {
    const nodes = v.nodes
      ?.split(',')
      .map((n) => n.trim())
      .filter((n) => n);
    return {
      what: c.name,
      run: async (client) => {
        const outcomes = await fleet(client).call(c.name, data, {
          ...(v.all ? { all: true } : { nodes }),
          timeoutMs: timeoutMs ?? 10_000,
        });
        io.stdout.write(`${v.json ? JSON.stringify(outcomes) : formatFleet(outcomes)}\n`);
        return fleetExitCode(outcomes);
      },
    };
  }
  if (c.job) {
    const o = { command: c.name, data, ...(timeoutMs && { timeoutMs }) };
    return {
      what: c.name,
      followsInterrupt: !v['no-wait'],
      run: (client, node) =>
        v['no-wait'] ? startJob(client, { ...o, node }, jobIo) : runJob(client, { ...o, node }, jobIo),
    };
  }
  return {
    what: c.name,
    run: async (client) =>
      printReply(c.name, await client.call(c.name, data, { timeoutMs: timeoutMs ?? 30_000 }), jobIo),
  };
}

async function dispatch(v: Values, words: string[], io: CliIo): Promise<number> {
  const [first, ...rest] = words;
  if (first === 'help') return help(rest, v, io);
  if (v.help || v.markdown) return help(words, v, io);
  if (!first) {
    io.stdout.write(`${overviewText()}\n`);
    return 2;
  }
  if (first === 'completion') {
    if (rest.length !== 1 || (rest[0] !== 'bash' && rest[0] !== 'zsh'))
      throw new UsageError('usage: virtbus completion bash|zsh');
    io.stdout.write(rest[0] === 'bash' ? bashCompletion() : zshCompletion());
    return 0;
  }
  if (first === 'keygen') return runKeygen(v, io);

  const { what, run, followsInterrupt } = await plan(v, words, io);
  const conn = connectionOf(v, io.env);
  for (const w of conn.warnings) io.stderr.write(`virtbus: ${w}\n`);
  let client: VirtbusClient;
  try {
    const connecting = connectClient(conn.options);
    const connected = await Promise.race([connecting, io.interrupted.then(() => undefined)]);
    if (!connected) {
      void connecting.then(
        (c) => c.close(),
        () => undefined,
      );
      return INTERRUPTED;
    }
    client = connected;
  } catch (e) {
    io.stderr.write(`virtbus: cannot reach ${conn.url}: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    const running = run(client, conn.node);
    if (followsInterrupt) return await running;
    return await Promise.race([running, io.interrupted.then(() => INTERRUPTED)]);
  } catch (e) {
    io.stderr.write(`virtbus: ${what}: ${(e as Error).message}\n`);
    return 2;
  } finally {
    await client.close();
  }
}
