#!/usr/bin/env node
// A RabbitMQ definitions file for a least-privilege virtbus fleet, to load
// with `rabbitmqctl import_definitions FILE` (or the management UI):
//   node deploy/rabbitmq/definitions.mjs --nodes node1,node2 --callers orchestrator > virtbus-definitions.json
//
// - one user per agent and per caller, named as its TLS certificate's CN
//   (ssl_cert_login_from = common_name), without a password: they log in
//   with SASL EXTERNAL (rabbitmq_auth_mechanism_ssl; agent: --amqp-auth external);
// - the contract topology (exchanges, each node's quorum command queue and
//   its binding, the fleet's presence log — the stream virtbus.fleet.presence
//   of every online/heartbeat/offline event, where agents look a peer up for
//   migrate {to} and callers list the fleet —, the dead-letter queue), so
//   agents run with --topology passive and need no configure rights on it;
// - per agent: consume only its own command queue and the broadcast exchange,
//   publish only its own events (topic permission v1.<node>.…), replies to
//   the default exchange, MQTT (rabbitmq_mqtt) topics of its own node;
// - per caller: publish commands, read events and its replies.
// What this cannot stop: an agent publishing to the default exchange (it must,
// for replies) can put a message into another node's command queue. Agents
// therefore run with --trusted-senders and/or --trusted-keys (README,
// "Securing a fleet"). Node ids must equal the certificate CNs.
// No dependencies: runs with any Node.js.
import { parseArgs } from 'node:util';
import { checkIds, idList } from '../ids.mjs';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string' },
    callers: { type: 'string', default: '' },
    vhost: { type: 'string', default: '/' },
    'delivery-limit': { type: 'string', default: '5' },
    help: { type: 'boolean' },
  },
});
const nodes = idList(values.nodes);
const callers = idList(values.callers);
if (values.help || nodes.length === 0) {
  process.stderr.write(
    'usage: definitions.mjs --nodes node1,node2[,…] [--callers orchestrator,…] [--vhost /] [--delivery-limit 5]\n',
  );
  process.exit(values.help ? 0 : 2);
}
checkIds([...nodes, ...callers]);
const vhost = values.vhost;
const deliveryLimit = Number(values['delivery-limit']);
const EXCHANGES = [
  ['virtbus.events', 'topic'],
  ['virtbus.commands', 'direct'],
  ['virtbus.broadcast', 'fanout'],
  ['virtbus.dlx', 'fanout'],
];
// RabbitMQ's MQTT plugin names a client's subscription queue after its client id (virtbus-agent-<node>)
const mqttQueue = (n) => `mqtt-subscription-virtbus-agent-${n}(qos[01])?`;

const user = (name) => ({
  name,
  password_hash: '', // no password: certificate (EXTERNAL) only
  hashing_algorithm: 'rabbit_password_hashing_sha256',
  tags: [],
  limits: {},
});

const doc = {
  rabbitmq_version: '3.10',
  users: [...nodes, ...callers].map(user),
  vhosts: [{ name: vhost }],
  permissions: [
    ...nodes.map((n) => ({
      user: n,
      vhost,
      configure: `^(amq\\.gen-.*|${mqttQueue(n)})$`,
      write: `^(virtbus\\.events|amq\\.gen-.*|amq\\.default|amq\\.topic|${mqttQueue(n)})$`,
      read: `^(virtbus\\.cmd\\.${n}|virtbus\\.fleet\\.presence|virtbus\\.broadcast|virtbus\\.events|amq\\.gen-.*|amq\\.topic|${mqttQueue(n)})$`,
    })),
    ...callers.map((c) => ({
      user: c,
      vhost,
      // (mqtt-subscription-…: a caller on RabbitMQ's MQTT plugin)
      configure: '^(virtbus\\..*|amq\\.gen-.*|mqtt-subscription-.*)$',
      write: '^(virtbus\\..*|amq\\.gen-.*|amq\\.default|amq\\.topic|mqtt-subscription-.*)$',
      read: '^(virtbus\\..*|amq\\.gen-.*|amq\\.topic|mqtt-subscription-.*)$',
    })),
  ],
  // topic permissions expand {username}; resource permissions do not
  topic_permissions: nodes.flatMap((n) => [
    { user: n, vhost, exchange: 'virtbus.events', write: '^v1\\.{username}\\.', read: '^v1\\.[^.]+\\.agent\\.' },
    {
      user: n,
      vhost,
      exchange: 'amq.topic',
      write: '^virtbus\\.(v1\\.{username}\\..+|reply\\..+)$',
      // its own and the broadcast command topic; every node's retained status (migrate {to} looks it up)
      read: '^virtbus\\.v1\\.(({username}|all)\\.cmd|[^.]+\\.status)$',
    },
  ]),
  exchanges: EXCHANGES.map(([name, type]) => ({
    name,
    vhost,
    type,
    durable: true,
    auto_delete: false,
    internal: false,
    arguments: {},
  })),
  queues: [
    { name: 'virtbus.dlq', vhost, durable: true, auto_delete: false, arguments: { 'x-queue-type': 'quorum' } },
    ...nodes.map((n) => ({
      name: `virtbus.cmd.${n}`,
      vhost,
      durable: true,
      auto_delete: false,
      arguments: {
        'x-queue-type': 'quorum',
        'x-single-active-consumer': true,
        'x-dead-letter-exchange': 'virtbus.dlx',
        'x-delivery-limit': deliveryLimit,
      },
    })),
    // the fleet's presence log (src/bus/amqp/presence-stream.ts: the same arguments)
    {
      name: 'virtbus.fleet.presence',
      vhost,
      durable: true,
      auto_delete: false,
      arguments: {
        'x-queue-type': 'stream',
        'x-max-age': '1h',
        'x-max-length-bytes': 64 * 1024 * 1024,
        'x-stream-max-segment-size-bytes': 4 * 1024 * 1024,
      },
    },
  ],
  bindings: [
    {
      source: 'virtbus.dlx',
      vhost,
      destination: 'virtbus.dlq',
      destination_type: 'queue',
      routing_key: '',
      arguments: {},
    },
    ...['online', 'heartbeat', 'offline'].map((event) => ({
      source: 'virtbus.events',
      vhost,
      destination: 'virtbus.fleet.presence',
      destination_type: 'queue',
      routing_key: `v1.*.agent.*.${event}`,
      arguments: {},
    })),
    ...nodes.map((n) => ({
      source: 'virtbus.commands',
      vhost,
      destination: `virtbus.cmd.${n}`,
      destination_type: 'queue',
      routing_key: n,
      arguments: {},
    })),
  ],
};
process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
