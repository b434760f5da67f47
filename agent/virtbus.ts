#!/usr/bin/env node
// virtbus: command-line client. Sends one command to a node and prints the
// reply (a table for people, --json for programs), or watches events.
//   virtbus domain.list
//   virtbus domain.suspend domain=test
//   virtbus --json node.info
//   virtbus watch
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { connectClient } from '../src/client/client';
import { formatReply, parseData } from '../src/cli/format';
import { EMBEDDED_BUS_URL } from '../src/agent/embedded-defaults';
import { readFileSync } from 'node:fs';
import { signerFrom, type Signer } from '../src/auth/signing';
import { keygen } from '../src/cli/keygen';
import { fleet } from '../src/client/fleet';
import { fleetExitCode, formatFleet, formatNodes } from '../src/cli/fleet';

const USAGE = `virtbus [options] <command> [key=value ... | JSON]
virtbus [options] watch
virtbus [options] nodes                           the fleet, from the presence the broker keeps
virtbus [options] --all <command> [data]          to every node: one table with a node column
virtbus [options] --nodes a,b <command> [data]    to these nodes
virtbus keygen --key-id ID --out FILE [--allow 'domain.*,*.list'] [--force]
  --bus URL            amqp://… or mqtt://… (default: $VIRTBUS_BUS or ${EMBEDDED_BUS_URL}, the embedded broker of npm start)
  --node ID            target node (default: $VIRTBUS_NODE_ID or the host name)
  --mqtt-version 4|5   MQTT protocol (default 5; the embedded broker speaks 3.1.1: 4 is picked for it)
  --timeout S          seconds to wait for the reply (default 30; with --all/--nodes 10)
  --json               print the reply data as JSON
  --signing-key FILE   sign every command with this Ed25519 key (PEM; $VIRTBUS_SIGNING_KEY)
  --key-id ID          the id the agents' trusted keys file knows it by ($VIRTBUS_KEY_ID)
  --user-id NAME       AMQP user_id on commands (default: the URL's user), for agents with trusted senders
  --tls-ca FILE, --tls-cert FILE, --tls-key FILE, --tls-servername NAME, --tls-insecure
                       TLS for amqps:// and mqtts:// as the agent's flags ($VIRTBUS_TLS_CA, …)
  --amqp-auth external log in to RabbitMQ with the client certificate (SASL EXTERNAL)
  --caller NAME        MQTT: replies come to virtbus/reply/NAME/… (default: the user name)
keygen writes FILE (private, mode 600) and FILE.pub and prints the entry for the agents' --trusted-keys file.
Exit code: 0 ok, 1 the command failed (error reply), 2 usage or connection problem.`;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      allowPositionals: true,
      options: {
        bus: { type: 'string' },
        node: { type: 'string' },
        'mqtt-version': { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
        all: { type: 'boolean' },
        nodes: { type: 'string' },
        help: { type: 'boolean' },
        'signing-key': { type: 'string' },
        'key-id': { type: 'string' },
        'user-id': { type: 'string' },
        'tls-ca': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-servername': { type: 'string' },
        'tls-insecure': { type: 'boolean' },
        'amqp-auth': { type: 'string' },
        caller: { type: 'string' },
        out: { type: 'string' },
        allow: { type: 'string' },
        force: { type: 'boolean' },
      },
    });
  } catch (e) {
    process.stderr.write(`virtbus: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = args;
  if (values.help || positionals.length === 0) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  if (positionals[0] === 'keygen') {
    const keyId = values['key-id'];
    if (!keyId || !values.out) {
      process.stderr.write(`virtbus keygen: --key-id ID and --out FILE are needed\n${USAGE}\n`);
      return 2;
    }
    try {
      const r = keygen({
        keyId,
        out: values.out,
        allow: values.allow?.split(',').map((s) => s.trim()),
        force: values.force,
      });
      if (values.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else
        process.stdout.write(
          `private key: ${r.privateKeyFile} (keep it secret)\npublic key:  ${r.publicKeyFile}\n` +
            `add to the agents' trusted keys file ("keys": [ … ]):\n${JSON.stringify(r.entry, null, 2)}\n`,
        );
      return 0;
    } catch (e) {
      process.stderr.write(`virtbus keygen: ${(e as Error).message}\n`);
      return 2;
    }
  }
  let signer: Signer | undefined;
  const keyFile = values['signing-key'] ?? process.env.VIRTBUS_SIGNING_KEY;
  if (keyFile) {
    const keyId = values['key-id'] ?? process.env.VIRTBUS_KEY_ID;
    try {
      if (!keyId) throw new Error('--signing-key needs --key-id ID');
      signer = signerFrom(readFileSync(keyFile), keyId);
    } catch (e) {
      process.stderr.write(`virtbus: signing key ${keyFile}: ${(e as Error).message}\n`);
      return 2;
    }
  }
  const url = values.bus ?? process.env.VIRTBUS_BUS ?? EMBEDDED_BUS_URL;
  const node =
    values.node ??
    process.env.VIRTBUS_NODE_ID ??
    hostname()
      .replace(/[^A-Za-z0-9_-]/g, '-')
      .slice(0, 64);
  const protocolVersion = values['mqtt-version']
    ? (Number(values['mqtt-version']) as 4 | 5)
    : url === EMBEDDED_BUS_URL
      ? 4
      : 5;
  const env = process.env;
  const tls = {
    ...((values['tls-ca'] ?? env.VIRTBUS_TLS_CA) && { caFile: values['tls-ca'] ?? env.VIRTBUS_TLS_CA }),
    ...((values['tls-cert'] ?? env.VIRTBUS_TLS_CERT) && { certFile: values['tls-cert'] ?? env.VIRTBUS_TLS_CERT }),
    ...((values['tls-key'] ?? env.VIRTBUS_TLS_KEY) && { keyFile: values['tls-key'] ?? env.VIRTBUS_TLS_KEY }),
    ...((values['tls-servername'] ?? env.VIRTBUS_TLS_SERVERNAME) && {
      servername: values['tls-servername'] ?? env.VIRTBUS_TLS_SERVERNAME,
    }),
    ...(values['tls-insecure'] && { insecure: true }),
  };
  if (tls.insecure) process.stderr.write('virtbus: --tls-insecure: the server certificate is not verified\n');
  const auth = values['amqp-auth'] ?? env.VIRTBUS_AMQP_AUTH;
  if (auth !== undefined && auth !== 'plain' && auth !== 'external') {
    process.stderr.write(`virtbus: --amqp-auth must be plain or external\n`);
    return 2;
  }
  let client;
  try {
    client = await connectClient({
      endpoint: Object.keys(tls).length ? { urls: url.split(','), tls } : url,
      ...(auth && { auth }),
      ...(values.caller && { caller: values.caller }),
      node,
      protocolVersion,
      ...(signer && { signer }),
      ...(values['user-id'] && { userId: values['user-id'] }),
    });
  } catch (e) {
    process.stderr.write(`virtbus: cannot reach ${url}: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    const [command, ...rest] = positionals;
    if (command === 'watch') {
      await client.watch((e) => {
        const d = e.data as
          | {
              domain?: { name?: string };
              pool?: { name?: string };
              network?: { name?: string };
              event?: string;
              detail?: unknown;
              seq?: number;
            }
          | undefined;
        if (values.json) process.stdout.write(`${JSON.stringify(e)}\n`);
        else
          process.stdout.write(
            `${e.time ?? ''}  ${e.type}  ${d?.domain?.name ?? d?.pool?.name ?? d?.network?.name ?? e.subject ?? ''}  ${d?.event ?? ''}${d?.detail !== undefined ? `/${d.detail}` : ''}${d?.seq ? `  seq=${d.seq}` : ''}\n`,
          );
      });
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      return 0;
    }
    if (command === 'nodes') {
      const list = await fleet(client).nodes();
      process.stdout.write(`${values.json ? JSON.stringify(list) : formatNodes(list)}\n`);
      return 0;
    }
    let data: Record<string, unknown>;
    try {
      data = parseData(rest);
    } catch (e) {
      process.stderr.write(`virtbus: ${(e as Error).message}\n`);
      return 2;
    }
    if (values.all || values.nodes) {
      const nodes = values.nodes
        ?.split(',')
        .map((n) => n.trim())
        .filter((n) => n);
      const outcomes = await fleet(client).call(command, data, {
        ...(values.all ? { all: true } : { nodes }),
        timeoutMs: Number(values.timeout ?? 10) * 1000,
      });
      process.stdout.write(`${values.json ? JSON.stringify(outcomes) : formatFleet(outcomes)}\n`);
      return fleetExitCode(outcomes);
    }
    const reply = await client.call(command, data, { timeoutMs: Number(values.timeout ?? 30) * 1000 });
    process.stdout.write(`${values.json ? JSON.stringify(reply) : formatReply(reply)}\n`);
    return reply.ok ? 0 : 1;
  } catch (e) {
    process.stderr.write(`virtbus: ${(e as Error).message}\n`);
    return 2;
  } finally {
    await client.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`virtbus: ${String(e)}\n`);
    process.exit(2);
  },
);
