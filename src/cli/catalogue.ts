// What the CLI can do: every command of the contract (COMMANDS), grouped by
// family, plus the CLI's own verbs. Help, completion and the reference
// document loop over this one list.
import { COMMANDS, isCommandName } from '../contract/commands';
import type { CommandSpec } from '../contract/command-spec';

/** Families in the order help shows them; a family the contract adds later follows, alphabetically. */
export const FAMILY_ORDER = ['node', 'domain', 'pool', 'vol', 'network', 'job', 'agent'] as const;

export const FAMILY_TITLES: Record<string, string> = {
  node: 'the hypervisor host',
  domain: 'guests, their devices, snapshots and migration',
  pool: 'storage pools',
  vol: 'storage volumes',
  network: 'virtual networks',
  job: 'long-running commands, by command id',
  agent: 'the agent itself',
};

export interface ContractCommand {
  name: string;
  family: string;
  summary: string;
  mutating: boolean;
  planned: boolean;
  /** a long-running command: always a job, or only for some data (vol.create of 1 GiB or more) */
  job?: 'always' | 'sometimes';
  data: unknown;
}

/** The family of a command: the first part of its name (domain.snapshot.create → domain). */
export const familyOf = (name: string): string => name.split('.')[0];

/**
 * Whether a command runs as a job. The contract's own mark when it has one;
 * else its summary's "(job)" — and vol.create, which is a job when large.
 */
export function jobKind(name: string, spec: CommandSpec): 'always' | 'sometimes' | undefined {
  const mark = (spec as { job?: 'always' | 'sometimes' }).job;
  if (mark) return mark;
  if (/\(job\)\s*$/.test(spec.summary)) return 'always';
  return name === 'vol.create' ? 'sometimes' : undefined;
}

export function contractCommands(): ContractCommand[] {
  return Object.entries(COMMANDS as Record<string, CommandSpec>).map(([name, spec]) => {
    const job = jobKind(name, spec);
    return {
      name,
      family: familyOf(name),
      summary: spec.summary,
      mutating: spec.mutating,
      planned: spec.planned,
      ...(job && { job }),
      data: spec.data,
    };
  });
}

export function findCommand(name: string): ContractCommand | undefined {
  return isCommandName(name) ? contractCommands().find((c) => c.name === name) : undefined;
}

/** The families present in the contract, in help order. */
export function families(): string[] {
  const present = [...new Set(contractCommands().map((c) => c.family))];
  const known = FAMILY_ORDER.filter((f) => present.includes(f));
  return [...known, ...present.filter((f) => !(FAMILY_ORDER as readonly string[]).includes(f)).sort()];
}

/** A verb of the CLI itself (not a contract command). */
export interface Verb {
  /** as typed: 'watch', 'job watch' */
  name: string;
  usage: string;
  summary: string;
  /** the options that matter for it, by long name (see options.ts) */
  options: string[];
  /** more lines of help */
  details?: string[];
}

export const VERBS: Verb[] = [
  {
    name: 'watch',
    usage: 'virtbus [options] watch [--domain NAME|UUID] [--event NAME] [--object OBJECT] [--json]',
    summary: "print the node's events as they come (all nodes with --node '*')",
    options: ['domain', 'event', 'object', 'json'],
    details: [
      '--domain keeps the events of one domain (name or UUID); --event keeps an event kind (lifecycle, device-added, …)',
      'or a state change (started, stopped, suspended, …); --object keeps domain, pool, network, agent, job or command',
      'events. --event and --object take comma-separated lists. On a terminal state changes are coloured (NO_COLOR',
      'turns that off); --json prints one CloudEvent per line for programs.',
    ],
  },
  {
    name: 'nodes',
    usage: 'virtbus [options] nodes',
    summary: 'the fleet, from the presence the broker keeps',
    options: ['json'],
  },
  {
    name: 'job watch',
    usage: 'virtbus [options] job watch ID',
    summary: "re-attach to a job: its state, then its progress until it ends; exit code by the job's outcome",
    options: ['json'],
    details: ['Exit code: 0 the job succeeded, 1 it failed or was cancelled (or is unknown), 2 usage or connection.'],
  },
  {
    name: 'keygen',
    usage: "virtbus keygen --key-id ID --out FILE [--allow 'domain.*,*.list'] [--force]",
    summary: "write an Ed25519 signing key pair and print the agents' trusted keys entry",
    options: ['key-id', 'out', 'allow', 'force', 'json'],
  },
  {
    name: 'completion',
    usage: 'virtbus completion bash|zsh',
    summary: 'print a shell completion script (commands, options, argument keys)',
    options: [],
    details: [
      'bash: source <(virtbus completion bash)   (or save it to /etc/bash_completion.d/virtbus)',
      'zsh:  source <(virtbus completion zsh)    (after compinit; or save it as _virtbus on $fpath)',
    ],
  },
  {
    name: 'help',
    usage: 'virtbus help [COMMAND] [--json | --markdown]',
    summary: "this list, or one command's arguments (also: virtbus COMMAND --help)",
    options: ['json', 'markdown'],
  },
];

/** The first words of the verbs: what may stand where a command stands. */
export const VERB_WORDS = [...new Set(VERBS.map((v) => v.name.split(' ')[0]))];

export const findVerb = (name: string): Verb | undefined => VERBS.find((v) => v.name === name);
