// The CLI's options, declared once: node:util parseArgs reads them, help
// prints them and the completion scripts offer them.
import { EMBEDDED_BUS_URL } from '../agent/embedded-defaults';

export interface OptionSpec {
  name: string;
  short?: string;
  /** a value follows (shown as this placeholder); absent: a switch */
  value?: string;
  /** the completion offers file names for its value */
  file?: boolean;
  /** the completion offers these words for its value */
  choices?: string[];
  description: string;
  /** shown under the connection options (else under the command options) */
  connection?: boolean;
}

export const OPTIONS: OptionSpec[] = [
  {
    name: 'bus',
    value: 'URL',
    connection: true,
    description: `amqp://… or mqtt://… (default: $VIRTBUS_BUS or ${EMBEDDED_BUS_URL}, the embedded broker of npm start)`,
  },
  {
    name: 'node',
    value: 'ID',
    connection: true,
    description: 'target node (default: $VIRTBUS_NODE_ID or the host name)',
  },
  {
    name: 'mqtt-version',
    value: '4|5',
    choices: ['4', '5'],
    connection: true,
    description: 'MQTT protocol (default 5; the embedded broker speaks 3.1.1: 4 is picked for it)',
  },
  {
    name: 'timeout',
    value: 'S',
    connection: true,
    description: 'seconds to wait for the reply (default 30; with --all/--nodes 10; a long-running command: no limit)',
  },
  {
    name: 'signing-key',
    value: 'FILE',
    file: true,
    connection: true,
    description: 'sign every command with this Ed25519 key (PEM; $VIRTBUS_SIGNING_KEY)',
  },
  {
    name: 'key-id',
    value: 'ID',
    connection: true,
    description: "the id the agents' trusted keys file knows the key by ($VIRTBUS_KEY_ID); keygen: the new key's id",
  },
  {
    name: 'user-id',
    value: 'NAME',
    connection: true,
    description: "AMQP user_id on commands (default: the URL's user), for agents with trusted senders",
  },
  {
    name: 'tls-ca',
    value: 'FILE',
    file: true,
    connection: true,
    description: 'TLS CA for amqps:// and mqtts:// ($VIRTBUS_TLS_CA)',
  },
  {
    name: 'tls-cert',
    value: 'FILE',
    file: true,
    connection: true,
    description: 'TLS client certificate ($VIRTBUS_TLS_CERT)',
  },
  { name: 'tls-key', value: 'FILE', file: true, connection: true, description: 'TLS client key ($VIRTBUS_TLS_KEY)' },
  {
    name: 'tls-servername',
    value: 'NAME',
    connection: true,
    description: 'TLS server name to expect ($VIRTBUS_TLS_SERVERNAME)',
  },
  { name: 'tls-insecure', connection: true, description: 'do not verify the server certificate' },
  {
    name: 'amqp-auth',
    value: 'plain|external',
    choices: ['plain', 'external'],
    connection: true,
    description: 'log in to RabbitMQ with user and password (plain) or the client certificate (external)',
  },
  {
    name: 'caller',
    value: 'NAME',
    connection: true,
    description: 'MQTT: replies come to virtbus/reply/NAME/… (default: the user name)',
  },
  { name: 'json', description: 'print data as JSON for programs (the reply, events, help)' },
  {
    name: 'file',
    short: 'f',
    value: 'FILE',
    file: true,
    description: "the command's data from a JSON file (- reads stdin)",
  },
  {
    name: 'no-wait',
    description:
      'long-running command: print its job id once the agent has the job (started or recorded), do not wait for the end',
  },
  { name: 'all', description: 'send the command to every node: one table with a node column' },
  { name: 'nodes', value: 'A,B', description: 'send the command to these nodes' },
  { name: 'domain', value: 'NAME|UUID', description: 'watch: only events of this domain' },
  {
    name: 'event',
    value: 'NAME',
    description: 'watch: only this event (lifecycle, …) or state change (started, stopped, …); a,b for several',
  },
  {
    name: 'object',
    value: 'OBJECT',
    choices: ['domain', 'pool', 'network', 'agent', 'job', 'command'],
    description: 'watch: only events of these objects (domain, pool, network, agent, job, command; a,b for several)',
  },
  {
    name: 'out',
    value: 'FILE',
    file: true,
    description: 'keygen: where the private key goes (FILE.pub: the public key)',
  },
  { name: 'allow', value: 'LIST', description: "keygen: the commands the key may sign (default '*')" },
  { name: 'force', description: 'keygen: overwrite existing key files' },
  { name: 'markdown', description: 'help: the reference as Markdown (docs/cli-reference.md)' },
  { name: 'help', short: 'h', description: 'help; after a command: its arguments' },
];

type ParseArgsOptions = Record<string, { type: 'string' | 'boolean'; short?: string }>;

/** The options in node:util parseArgs' shape. */
export function parseArgsOptions(): ParseArgsOptions {
  const out: ParseArgsOptions = {};
  for (const o of OPTIONS) out[o.name] = { type: o.value ? 'string' : 'boolean', ...(o.short && { short: o.short }) };
  return out;
}

/** Every spelling of every option, for completion: --bus, -f, … */
export const optionWords = (): string[] => OPTIONS.flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]);

export const optionByName = (name: string): OptionSpec | undefined => OPTIONS.find((o) => o.name === name);
