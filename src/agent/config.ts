// Agent configuration: defaults < file (YAML or JSON) < environment < flags.
import { readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { NODE_ID_PATTERN, isNodeId } from '../contract/addresses';
import { EMBEDDED_LIBVIRT_URI, EMBEDDED_PORT } from './embedded-defaults';
import { toEndpoint, type Endpoint, type TlsSettings } from '../endpoint';
import { parseListen } from '../ops/listen';

export interface AgentConfig {
  /** [A-Za-z0-9_-]{1,64}; default: the host name */
  nodeId: string;
  /** default test:///default (in-process); production: qemu:///system */
  libvirtUri: string;
  /** 'embedded' (in-process MQTT broker), amqp://user:pass@host:port/vhost or mqtt://host:port */
  bus: string;
  /** port of the embedded MQTT broker */
  embeddedPort: number;
  /** MQTT protocol for mqtt:// buses: 5 or 4 (3.1.1) */
  mqttVersion: number;
  readOnly: boolean;
  logLevel: string;
  /** libvirt URI other nodes use for migration to this node (presence); default libvirtUri */
  advertiseUri?: string;
  heartbeatS: number;
  commandTimeoutS: number;
  maxConcurrent: number;
  /** larger commands are refused (BAD_REQUEST) */
  maxMessageBytes: number;
  /** larger replies and events are not published (a reply becomes an error reply) */
  maxOutgoingBytes: number;
  prefetch: number;
  idempotencyWindowS: number;
  drainS: number;
  /** redis://host:port: long-running jobs on BullMQ; empty: a local file under stateDir */
  redis: string;
  /** where the agent keeps its state (local job record) */
  stateDir: string;
  /** save/restore files must be inside this directory (default <stateDir>/save) */
  saveDir: string;
  /** hypervisor data channel peers migrate to (presence), e.g. tcp://10.0.0.2 */
  advertiseMigrateUri: string;
  /** how often a running job's progress is sampled and published (ms) */
  jobProgressMs: number;
  /** encoding of published events: json (structured CloudEvents) or protobuf; replies follow each command's */
  encoding: 'json' | 'protobuf';
  /** TLS for amqps://, mqtts:// and rediss://: CA file (PEM), default the system's */
  tlsCa: string;
  /** client certificate (PEM), for brokers that want one */
  tlsCert: string;
  /** its private key (PEM) */
  tlsKey: string;
  /** the name the server's certificate must carry, when not the URL's host */
  tlsServername: string;
  /** do not verify the server's certificate (never in production; logged as a warning) */
  tlsInsecure: boolean;
  /** AMQP: run only commands whose validated user_id is one of these (comma-separated); '' = anyone */
  trustedSenders: string;
  /** the trusted keys file (contract: Command authenticity); implies requireSigned */
  trustedKeys: string;
  /** refuse unsigned commands (needs trustedKeys) */
  requireSigned: boolean;
  /** how far a signed command's time may be from this clock (s) */
  signatureSkewS: number;
  /** AMQP: declare the contract topology, or only check it (least privilege: an operator declared it) */
  topology: string;
  /** AMQP login: plain (user and password) or external (the TLS client certificate) */
  amqpAuth: string;
  /** MQTT: reply only to topics under this prefix ('' = any); with the deploy/ ACL: virtbus/reply/ */
  replyTopicPrefix: string;
  /** /metrics, /healthz and /readyz: HOST:PORT, or none */
  metricsListen: string;
  /** serve them over HTTPS with this certificate (PEM) and key */
  metricsTlsCert: string;
  metricsTlsKey: string;
  /** and ask scrapers for a client certificate signed by this CA */
  metricsTlsCa: string;
  /** basic auth: the user ('' = no auth) and the password */
  metricsUser: string;
  metricsPassword: string;
  /** how long a scrape waits for the guests' bulk statistics (s) */
  metricsGuestTimeoutS: number;
  /** publish virtbus.event.domain.stats for every domain this often (s; 0 = never) */
  statsInterval: number;
  /** auto: pretty on a terminal, JSON lines otherwise */
  logFormat: string;
}

export const DEFAULTS: AgentConfig = {
  nodeId:
    hostname()
      .replace(/[^A-Za-z0-9_-]/g, '-')
      .slice(0, 64) || 'node',
  libvirtUri: EMBEDDED_LIBVIRT_URI,
  bus: 'embedded',
  embeddedPort: EMBEDDED_PORT,
  mqttVersion: 5,
  readOnly: false,
  logLevel: 'info',
  heartbeatS: 30,
  commandTimeoutS: 60,
  maxConcurrent: 16,
  maxMessageBytes: 1024 * 1024,
  // RabbitMQ 4's default max_message_size; a whole node's domain.list fits many times over
  maxOutgoingBytes: 16 * 1024 * 1024,
  prefetch: 8,
  idempotencyWindowS: 600,
  drainS: 30,
  encoding: 'json',
  redis: '',
  // root: the system place; anyone else: their own state directory
  stateDir: process.getuid?.() === 0 ? '/var/lib/virtbus' : join(homedir(), '.local', 'state', 'virtbus'),
  saveDir: '',
  advertiseMigrateUri: '',
  jobProgressMs: 1000,
  tlsCa: '',
  tlsCert: '',
  tlsKey: '',
  tlsServername: '',
  tlsInsecure: false,
  trustedSenders: '',
  trustedKeys: '',
  requireSigned: false,
  signatureSkewS: 60,
  topology: 'declare',
  amqpAuth: 'plain',
  replyTopicPrefix: '',
  metricsListen: '127.0.0.1:9477',
  metricsTlsCert: '',
  metricsTlsKey: '',
  metricsTlsCa: '',
  metricsUser: '',
  metricsPassword: '',
  metricsGuestTimeoutS: 5,
  statsInterval: 0,
  logFormat: 'auto',
};

/** flag name, env var, config key */
const KEYS: Array<[string, string, keyof AgentConfig]> = [
  ['node-id', 'VIRTBUS_NODE_ID', 'nodeId'],
  ['libvirt-uri', 'VIRTBUS_LIBVIRT_URI', 'libvirtUri'],
  ['bus', 'VIRTBUS_BUS', 'bus'],
  ['embedded-port', 'VIRTBUS_EMBEDDED_PORT', 'embeddedPort'],
  ['mqtt-version', 'VIRTBUS_MQTT_VERSION', 'mqttVersion'],
  ['read-only', 'VIRTBUS_READ_ONLY', 'readOnly'],
  ['log-level', 'VIRTBUS_LOG_LEVEL', 'logLevel'],
  ['advertise-uri', 'VIRTBUS_ADVERTISE_URI', 'advertiseUri'],
  ['heartbeat', 'VIRTBUS_HEARTBEAT_S', 'heartbeatS'],
  ['command-timeout', 'VIRTBUS_COMMAND_TIMEOUT_S', 'commandTimeoutS'],
  ['max-concurrent', 'VIRTBUS_MAX_CONCURRENT', 'maxConcurrent'],
  ['max-message-bytes', 'VIRTBUS_MAX_MESSAGE_BYTES', 'maxMessageBytes'],
  ['max-outgoing-bytes', 'VIRTBUS_MAX_OUTGOING_BYTES', 'maxOutgoingBytes'],
  ['prefetch', 'VIRTBUS_PREFETCH', 'prefetch'],
  ['idempotency-window', 'VIRTBUS_IDEMPOTENCY_WINDOW_S', 'idempotencyWindowS'],
  ['drain', 'VIRTBUS_DRAIN_S', 'drainS'],
  ['encoding', 'VIRTBUS_ENCODING', 'encoding'],
  ['redis', 'VIRTBUS_REDIS', 'redis'],
  ['state-dir', 'VIRTBUS_STATE_DIR', 'stateDir'],
  ['save-dir', 'VIRTBUS_SAVE_DIR', 'saveDir'],
  ['advertise-migrate-uri', 'VIRTBUS_ADVERTISE_MIGRATE_URI', 'advertiseMigrateUri'],
  ['job-progress-ms', 'VIRTBUS_JOB_PROGRESS_MS', 'jobProgressMs'],
  ['tls-ca', 'VIRTBUS_TLS_CA', 'tlsCa'],
  ['tls-cert', 'VIRTBUS_TLS_CERT', 'tlsCert'],
  ['tls-key', 'VIRTBUS_TLS_KEY', 'tlsKey'],
  ['tls-servername', 'VIRTBUS_TLS_SERVERNAME', 'tlsServername'],
  ['tls-insecure', 'VIRTBUS_TLS_INSECURE', 'tlsInsecure'],
  ['trusted-senders', 'VIRTBUS_TRUSTED_SENDERS', 'trustedSenders'],
  ['trusted-keys', 'VIRTBUS_TRUSTED_KEYS', 'trustedKeys'],
  ['require-signed', 'VIRTBUS_REQUIRE_SIGNED', 'requireSigned'],
  ['signature-skew', 'VIRTBUS_SIGNATURE_SKEW_S', 'signatureSkewS'],
  ['topology', 'VIRTBUS_TOPOLOGY', 'topology'],
  ['amqp-auth', 'VIRTBUS_AMQP_AUTH', 'amqpAuth'],
  ['reply-topic-prefix', 'VIRTBUS_REPLY_TOPIC_PREFIX', 'replyTopicPrefix'],
  ['metrics-listen', 'VIRTBUS_METRICS_LISTEN', 'metricsListen'],
  ['metrics-tls-cert', 'VIRTBUS_METRICS_TLS_CERT', 'metricsTlsCert'],
  ['metrics-tls-key', 'VIRTBUS_METRICS_TLS_KEY', 'metricsTlsKey'],
  ['metrics-tls-ca', 'VIRTBUS_METRICS_TLS_CA', 'metricsTlsCa'],
  ['metrics-user', 'VIRTBUS_METRICS_USER', 'metricsUser'],
  ['metrics-password', 'VIRTBUS_METRICS_PASSWORD', 'metricsPassword'],
  ['metrics-guest-timeout', 'VIRTBUS_METRICS_GUEST_TIMEOUT_S', 'metricsGuestTimeoutS'],
  ['stats-interval', 'VIRTBUS_STATS_INTERVAL_S', 'statsInterval'],
  ['log-format', 'VIRTBUS_LOG_FORMAT', 'logFormat'],
];

export class ConfigError extends Error {}

/** A *_FILE variable's value: the file's content without its final line break. */
function readSecretFile(file: string, from: string): string {
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    throw new ConfigError(`${from}: ${(e as Error).message}`);
  }
}

function coerce(key: keyof AgentConfig, v: unknown, from: string): unknown {
  const kind = typeof DEFAULTS[key];
  if (kind === 'number') {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new ConfigError(`${from}: '${String(v)}' is not a non-negative number`);
    return n;
  }
  if (kind === 'boolean') {
    if (typeof v === 'boolean') return v;
    if (/^(1|true|yes|on)$/i.test(String(v))) return true;
    if (/^(0|false|no|off)$/i.test(String(v))) return false;
    throw new ConfigError(`${from}: '${String(v)}' is not a boolean`);
  }
  return String(v);
}

export function loadConfig(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): AgentConfig & { configFile?: string } {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {
    config: { type: 'string' },
    help: { type: 'boolean' },
  };
  for (const [flag, , key] of KEYS) options[flag] = { type: typeof DEFAULTS[key] === 'boolean' ? 'boolean' : 'string' };
  options.bus.multiple = true; // --bus a --bus b is the list a,b (cluster nodes, fail-over brokers)
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const cfg: Record<string, unknown> = { ...DEFAULTS };
  const file = (values.config as string | undefined) ?? env.VIRTBUS_CONFIG;
  if (file) {
    let parsed: unknown;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only with a config file
      const { parse } = require('yaml') as typeof import('yaml');
      parsed = parse(readFileSync(file, 'utf8')); // YAML is a superset of JSON
    } catch (e) {
      throw new ConfigError(`config file ${file}: ${(e as Error).message}`);
    }
    if (parsed && typeof parsed === 'object') {
      for (const [k, v] of Object.entries(parsed)) {
        if (!(k in DEFAULTS) && k !== 'advertiseUri') throw new ConfigError(`config file ${file}: unknown key '${k}'`);
        // bus: a list of URLs in YAML is the comma-separated list
        const value = k === 'bus' && Array.isArray(v) ? v.map(String).join(',') : v;
        cfg[k] = coerce(k as keyof AgentConfig, value, `config file ${file}, ${k}`);
      }
    }
  }
  for (const [, name, key] of KEYS) {
    if (env[name] !== undefined && env[name] !== '') cfg[key] = coerce(key, env[name], name);
    // NAME_FILE: the value is the file's content (secrets from a container or systemd credential)
    else if (env[`${name}_FILE`]) cfg[key] = coerce(key, readSecretFile(env[`${name}_FILE`]!, `${name}_FILE`), name);
  }
  if (Array.isArray(values.bus)) values.bus = values.bus.join(',');
  for (const [flag, , key] of KEYS) if (values[flag] !== undefined) cfg[key] = coerce(key, values[flag], `--${flag}`);
  if (cfg.mqttVersion !== 4 && cfg.mqttVersion !== 5)
    throw new ConfigError(`mqtt version ${String(cfg.mqttVersion)} must be 4 (3.1.1) or 5`);
  for (const k of ['maxMessageBytes', 'maxOutgoingBytes'] as const) {
    if (!Number.isInteger(cfg[k]) || (cfg[k] as number) < 1024)
      throw new ConfigError(`${k} ${String(cfg[k])} must be a whole number of bytes, at least 1024`);
  }
  if (cfg.encoding !== 'json' && cfg.encoding !== 'protobuf')
    throw new ConfigError(`encoding '${String(cfg.encoding)}' must be json or protobuf`);
  if (cfg.bus !== 'embedded') {
    try {
      toEndpoint(String(cfg.bus));
    } catch (e) {
      throw new ConfigError(`bus: ${(e as Error).message}`);
    }
  }
  if ((cfg.tlsCert === '') !== (cfg.tlsKey === '')) throw new ConfigError('tls-cert and tls-key go together');
  if (cfg.requireSigned && !cfg.trustedKeys) {
    throw new ConfigError('require-signed needs trusted-keys FILE: the keys whose signatures are accepted');
  }
  if (cfg.trustedKeys) cfg.requireSigned = true;
  if (!((cfg.signatureSkewS as number) > 0)) throw new ConfigError('signature-skew must be more than 0 seconds');
  if (cfg.topology !== 'declare' && cfg.topology !== 'passive')
    throw new ConfigError(`topology '${String(cfg.topology)}' must be declare or passive`);
  if (cfg.amqpAuth !== 'plain' && cfg.amqpAuth !== 'external')
    throw new ConfigError(`amqp-auth '${String(cfg.amqpAuth)}' must be plain or external`);
  if (cfg.amqpAuth === 'external' && !cfg.tlsCert)
    throw new ConfigError('amqp-auth external logs in with the TLS client certificate: give --tls-cert and --tls-key');
  if (cfg.trustedSenders && !/^amqps?:/.test(String(cfg.bus))) {
    throw new ConfigError('trusted-senders needs an AMQP bus: only RabbitMQ validates the sender (user_id)');
  }
  if (!['auto', 'json', 'pretty'].includes(String(cfg.logFormat)))
    throw new ConfigError(`log-format '${String(cfg.logFormat)}' must be auto, json or pretty`);
  if (cfg.metricsListen !== 'none') {
    try {
      parseListen(String(cfg.metricsListen));
    } catch (e) {
      throw new ConfigError(`metrics-listen: ${(e as Error).message} or none`);
    }
  }
  if ((cfg.metricsTlsCert === '') !== (cfg.metricsTlsKey === ''))
    throw new ConfigError('metrics-tls-cert and metrics-tls-key go together');
  if (cfg.metricsTlsCa && !cfg.metricsTlsCert)
    throw new ConfigError('metrics-tls-ca checks scrapers over HTTPS: give metrics-tls-cert and metrics-tls-key');
  if ((cfg.metricsUser === '') !== (cfg.metricsPassword === ''))
    throw new ConfigError(
      'metrics-user and metrics-password go together (the password may come from a file: VIRTBUS_METRICS_PASSWORD_FILE)',
    );
  if (!((cfg.metricsGuestTimeoutS as number) > 0))
    throw new ConfigError('metrics-guest-timeout must be more than 0 seconds');
  if (!isNodeId(String(cfg.nodeId))) {
    throw new ConfigError(`node id '${String(cfg.nodeId)}' must match ${NODE_ID_PATTERN}`);
  }
  return {
    ...(cfg as unknown as AgentConfig),
    ...(file && { configFile: file }),
    ...(values.help ? { help: true } : {}),
  };
}

/** The TLS settings of the configuration (undefined: none given). */
function tlsOf(cfg: AgentConfig): TlsSettings | undefined {
  const t: TlsSettings = {
    ...(cfg.tlsCa && { caFile: cfg.tlsCa }),
    ...(cfg.tlsCert && { certFile: cfg.tlsCert }),
    ...(cfg.tlsKey && { keyFile: cfg.tlsKey }),
    ...(cfg.tlsServername && { servername: cfg.tlsServername }),
    ...(cfg.tlsInsecure && { insecure: true }),
  };
  return Object.keys(t).length ? t : undefined;
}

/**
 * The connection settings, read once: every client (transport, presence,
 * job store) gets its Endpoint from here. bus is undefined for 'embedded'.
 */
export function endpointsOf(cfg: AgentConfig): { bus?: Endpoint; redis?: Endpoint } {
  const tls = tlsOf(cfg);
  const of = (urls: string): Endpoint => ({ ...toEndpoint(urls), ...(tls && { tls }) });
  return {
    ...(cfg.bus !== 'embedded' && { bus: of(cfg.bus) }),
    ...(cfg.redis && { redis: of(cfg.redis) }),
  };
}

export const USAGE = `virtbus-agent [options]
  --config FILE            YAML or JSON file with the keys below (camelCase)
  --node-id ID             node id [A-Za-z0-9_-]{1,64} (default: host name)
  --libvirt-uri URI        libvirt connection (default test:///default, in-process; production qemu:///system)
  --bus URL[,URL…]         (repeatable) embedded (default: an in-process MQTT broker), amqp://user:pass@host:5672 or mqtt://host:1883;
                           several URLs of one kind (cluster nodes) are tried in turn at each (re)connect
  --embedded-port N        port of the embedded MQTT broker on 127.0.0.1 (default 1885)
  --mqtt-version 4|5       MQTT protocol for mqtt:// buses (default 5; the embedded broker uses 4 = 3.1.1)
  --read-only              open libvirt read-only; mutating commands get FORBIDDEN
  --log-level LEVEL        trace|debug|info|warn|error (default info)
  --log-format F           auto (default: pretty on a terminal, JSON lines otherwise), json or pretty
  --advertise-uri URI      libvirt URI peers use to reach this node (migration)
  --heartbeat S            presence heartbeat interval (default 30)
  --command-timeout S      per-command time limit (default 60)
  --max-concurrent N       commands running at once (default 16)
  --max-message-bytes N    larger commands are refused with BAD_REQUEST (default 1048576)
  --max-outgoing-bytes N   larger replies become an error reply; larger events are not sent (default 16777216)
  --prefetch N             unacknowledged deliveries at once (default 8)
  --idempotency-window S   how long command outcomes are remembered (default 600)
  --drain S                bound of the whole shutdown, running commands first (default 30)
  --encoding E             events as json or protobuf (default json); replies use the command's encoding
  --redis URL              redis://host:6379: long-running jobs on BullMQ (default: a local file in --state-dir)
  --state-dir DIR          the agent's state (default /var/lib/virtbus as root, else ~/.local/state/virtbus)
  --save-dir DIR           domain.save/restore files must be inside it (default <state-dir>/save)
  --advertise-migrate-uri U  data channel peers migrate to, e.g. tcp://10.0.0.2 (presence)
  --job-progress-ms N      how often job progress is sampled and published (default 1000)
  --tls-ca FILE            CA (PEM) for amqps://, mqtts://, rediss:// (default: the system's)
  --tls-cert FILE          client certificate (PEM); with --tls-key
  --tls-key FILE           its private key (PEM)
  --tls-servername NAME    name the server's certificate must carry, if not the URL's host
  --tls-insecure           do not verify the server's certificate (testing only)
  --trusted-senders U,U    AMQP: run only commands whose validated user_id is one of these
  --trusted-keys FILE      run only commands signed by these Ed25519 keys (implies --require-signed)
  --require-signed         refuse unsigned commands (needs --trusted-keys)
  --signature-skew S       how far a signed command's time may be from this clock (default 60)
  --topology declare|passive  AMQP: declare the topology (default) or only check that an operator did
  --amqp-auth plain|external  AMQP login: user and password (default) or the TLS client certificate
  --reply-topic-prefix P   MQTT: reply only to topics starting with P (with the deploy/ ACL: virtbus/reply/)
  --metrics-listen H:P|none  /metrics, /healthz and /readyz (default 127.0.0.1:9477)
  --metrics-tls-cert FILE  serve them over HTTPS (PEM); with --metrics-tls-key FILE
  --metrics-tls-ca FILE    and require scrapers' client certificates signed by this CA
  --metrics-user U         basic auth; with --metrics-password P (or VIRTBUS_METRICS_PASSWORD_FILE)
  --metrics-guest-timeout S  how long a scrape waits for the guests' statistics (default 5)
  --stats-interval S       publish virtbus.event.domain.stats for every domain every S seconds (default 0: off)
Environment: VIRTBUS_CONFIG, VIRTBUS_NODE_ID, VIRTBUS_LIBVIRT_URI, VIRTBUS_BUS, VIRTBUS_READ_ONLY, VIRTBUS_LOG_LEVEL, …;\nany of them with _FILE appended (VIRTBUS_BUS_FILE) reads the value from that file, for secrets\n(flags win over environment, environment over file).`;
