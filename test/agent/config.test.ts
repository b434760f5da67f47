// Configuration: defaults < file < environment < flags, and bad values refused with the reason.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DEFAULTS, endpointsOf, loadConfig } from '../../src/agent/config';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'virtbus-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('defaults', () => {
  const c = loadConfig([], {});
  expect(c).toMatchObject({
    bus: 'embedded',
    libvirtUri: 'test:///default',
    maxMessageBytes: 1048576,
    maxOutgoingBytes: 16777216,
    idempotencyWindowS: 600,
  });
  expect(c.nodeId).toBe(DEFAULTS.nodeId);
});

test('file < environment < flags', () => {
  const file = join(dir, 'c.yaml');
  writeFileSync(file, 'nodeId: from-file\nprefetch: 3\nheartbeatS: 7\nlogLevel: debug\n');
  const c = loadConfig(['--config', file, '--prefetch', '9'], { VIRTBUS_PREFETCH: '5', VIRTBUS_HEARTBEAT_S: '11' });
  expect(c).toMatchObject({ nodeId: 'from-file', prefetch: 9, heartbeatS: 11, logLevel: 'debug', configFile: file });
});

test.each([
  [['--node-id', 'bad.id'], /node id 'bad.id' must match/],
  [['--node-id', 'x'.repeat(65)], /must match/],
  [['--mqtt-version', '3'], /must be 4 \(3.1.1\) or 5/],
  [['--encoding', 'xml'], /json or protobuf/],
  [['--max-outgoing-bytes', '10'], /at least 1024/],
  [['--prefetch=-1'], /not a non-negative number/],
  [['--read-only', '--nope'], /Unknown option/],
])('%j is refused', (argv, reason) => {
  expect(() => loadConfig(argv as string[], {})).toThrow(ConfigError);
  expect(() => loadConfig(argv as string[], {})).toThrow(reason);
});

test('an unknown key in the file is refused', () => {
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ nodeId: 'n', prefetchh: 2 }));
  expect(() => loadConfig(['--config', file], {})).toThrow(/unknown key 'prefetchh'/);
});

test('connection settings are read once into endpoints: a bus URL list, Redis, and TLS for both', () => {
  const cfg = loadConfig(
    [
      '--bus',
      'amqps://a:5671,amqps://b:5671',
      '--redis',
      'rediss://r:6380',
      '--tls-ca',
      '/etc/virtbus/ca.pem',
      '--tls-cert',
      '/etc/virtbus/node.pem',
      '--tls-key',
      '/etc/virtbus/node.key',
      '--tls-servername',
      'rabbit.example',
    ],
    {},
  );
  const tls = {
    caFile: '/etc/virtbus/ca.pem',
    certFile: '/etc/virtbus/node.pem',
    keyFile: '/etc/virtbus/node.key',
    servername: 'rabbit.example',
  };
  expect(endpointsOf(cfg)).toEqual({
    bus: { urls: ['amqps://a:5671', 'amqps://b:5671'], tls },
    redis: { urls: ['rediss://r:6380'], tls },
  });
  expect(endpointsOf(loadConfig([], {}))).toEqual({});
  expect(endpointsOf(loadConfig(['--tls-insecure'], { VIRTBUS_BUS: 'mqtts://m:8883' }))).toEqual({
    bus: { urls: ['mqtts://m:8883'], tls: { insecure: true } },
  });
});

test('several brokers: --bus repeated, a comma-separated list, or a YAML list in the file', () => {
  const urls = ['amqp://a:5672', 'amqp://b:5672', 'amqp://c:5672'];
  expect(endpointsOf(loadConfig(['--bus', urls[0], '--bus', `${urls[1]},${urls[2]}`], {})).bus?.urls).toEqual(urls);
  const file = join(dir, 'cluster.yaml');
  writeFileSync(file, `bus:\n${urls.map((u) => `  - ${u}\n`).join('')}`);
  expect(endpointsOf(loadConfig(['--config', file], {})).bus?.urls).toEqual(urls);
});

test('refused connection settings: mixed bus kinds, a certificate without its key', () => {
  expect(() => loadConfig(['--bus', 'amqp://a,mqtt://b'], {})).toThrow(ConfigError);
  expect(() => loadConfig(['--bus', 'amqp://a,mqtt://b'], {})).toThrow('bus: URLs of one endpoint must be of one kind');
  expect(() => loadConfig(['--tls-cert', '/x.pem'], {})).toThrow('tls-cert and tls-key go together');
});

test('NAME_FILE reads a value from a file (secrets), without its final line break; NAME itself wins', () => {
  const secret = join(dir, 'bus-url');
  writeFileSync(secret, 'amqp://agent:s3cret@broker:5672\n');
  expect(loadConfig([], { VIRTBUS_BUS_FILE: secret }).bus).toBe('amqp://agent:s3cret@broker:5672');
  expect(loadConfig([], { VIRTBUS_BUS_FILE: secret, VIRTBUS_BUS: 'mqtt://other:1883' }).bus).toBe('mqtt://other:1883');
  expect(() => loadConfig([], { VIRTBUS_BUS_FILE: join(dir, 'missing') })).toThrow(/VIRTBUS_BUS_FILE: ENOENT/);
});

test('command authenticity, topology and AMQP login options', () => {
  const keys = join(dir, 'keys.json');
  const c = loadConfig(
    ['--bus', 'amqp://h', '--trusted-keys', keys, '--trusted-senders', 'orch,ops', '--topology', 'passive'],
    { VIRTBUS_SIGNATURE_SKEW_S: '30' },
  );
  expect(c).toMatchObject({
    trustedKeys: keys,
    requireSigned: true, // implied
    trustedSenders: 'orch,ops',
    signatureSkewS: 30,
    topology: 'passive',
    amqpAuth: 'plain',
  });
});

test.each([
  [['--require-signed'], /require-signed needs trusted-keys/],
  [['--bus', 'mqtt://h', '--trusted-senders', 'a'], /trusted-senders needs an AMQP bus/],
  [['--trusted-senders', 'a'], /trusted-senders needs an AMQP bus/], // the embedded broker is MQTT
  [['--signature-skew', '0', '--trusted-keys', 'k'], /signature-skew must be more than 0/],
  [['--topology', 'lazy'], /must be declare or passive/],
  [['--amqp-auth', 'kerberos'], /must be plain or external/],
  [['--bus', 'amqps://h', '--amqp-auth', 'external'], /give --tls-cert and --tls-key/],
])('%j is refused', (argv, reason) => {
  expect(() => loadConfig(argv, {})).toThrow(ConfigError);
  expect(() => loadConfig(argv, {})).toThrow(reason);
});

test('operations: the metrics listener, its TLS and basic auth, statistics, log format', () => {
  expect(loadConfig([], {})).toMatchObject({ metricsListen: '127.0.0.1:9477', statsInterval: 0, logFormat: 'auto' });
  const pw = join(dir, 'metrics-password');
  writeFileSync(pw, 's3cret\n');
  const c = loadConfig(
    [
      '--metrics-listen',
      '[::]:9100',
      '--metrics-tls-cert',
      'c.pem',
      '--metrics-tls-key',
      'k.pem',
      '--stats-interval',
      '15',
    ],
    { VIRTBUS_METRICS_USER: 'prometheus', VIRTBUS_METRICS_PASSWORD_FILE: pw, VIRTBUS_LOG_FORMAT: 'json' },
  );
  expect(c).toMatchObject({
    metricsListen: '[::]:9100',
    metricsTlsCert: 'c.pem',
    metricsTlsKey: 'k.pem',
    metricsUser: 'prometheus',
    metricsPassword: 's3cret',
    statsInterval: 15,
    logFormat: 'json',
  });
  expect(loadConfig(['--metrics-listen', 'none'], {}).metricsListen).toBe('none');
});

test.each([
  [['--metrics-listen', '9477'], /metrics-listen: .*HOST:PORT/],
  [['--metrics-listen', 'localhost:70000'], /metrics-listen/],
  [['--metrics-tls-cert', 'c.pem'], /metrics-tls-cert and metrics-tls-key go together/],
  [['--metrics-tls-ca', 'ca.pem'], /metrics-tls-ca checks scrapers over HTTPS/],
  [['--metrics-user', 'p'], /metrics-user and metrics-password go together/],
  [['--metrics-guest-timeout', '0'], /more than 0 seconds/],
  [['--stats-interval=-5'], /not a non-negative number/],
  [['--log-format', 'xml'], /auto, json or pretty/],
])('%j is refused', (argv, reason) => {
  expect(() => loadConfig(argv, {})).toThrow(ConfigError);
  expect(() => loadConfig(argv, {})).toThrow(reason);
});
