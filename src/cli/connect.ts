// The CLI's connection settings (options, else environment, else the
// embedded broker of `npm start`), read once into the SDK's client options.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { EMBEDDED_BUS_URL } from '../agent/embedded-defaults';
import { signerFrom } from '../auth/signing';
import type { ClientOptions } from '../client/types';
import { UsageError } from './args';

export interface ConnectionValues {
  bus?: string;
  node?: string;
  'mqtt-version'?: string;
  'signing-key'?: string;
  'key-id'?: string;
  'user-id'?: string;
  'tls-ca'?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
  'tls-servername'?: string;
  'tls-insecure'?: boolean;
  'amqp-auth'?: string;
  caller?: string;
}

export interface Connection {
  options: ClientOptions;
  url: string;
  node: string;
  /** things to say before connecting (e.g. TLS not verified) */
  warnings: string[];
}

/** The node a command goes to: --node, $VIRTBUS_NODE_ID, or this host's name as a node id. */
export function targetNode(v: ConnectionValues, env: NodeJS.ProcessEnv): string {
  return (
    v.node ??
    env.VIRTBUS_NODE_ID ??
    hostname()
      .replace(/[^A-Za-z0-9_-]/g, '-')
      .slice(0, 64)
  );
}

/** Throws UsageError for settings that cannot work (a key file that does not load, a bad --amqp-auth). */
export function connectionOf(v: ConnectionValues, env: NodeJS.ProcessEnv): Connection {
  const warnings: string[] = [];
  let signer;
  const keyFile = v['signing-key'] ?? env.VIRTBUS_SIGNING_KEY;
  if (keyFile) {
    const keyId = v['key-id'] ?? env.VIRTBUS_KEY_ID;
    try {
      if (!keyId) throw new Error('--signing-key needs --key-id ID');
      signer = signerFrom(readFileSync(keyFile), keyId);
    } catch (e) {
      throw new UsageError(`signing key ${keyFile}: ${(e as Error).message}`);
    }
  }
  const url = v.bus ?? env.VIRTBUS_BUS ?? EMBEDDED_BUS_URL;
  const mqttVersion = v['mqtt-version'];
  if (mqttVersion !== undefined && mqttVersion !== '4' && mqttVersion !== '5')
    throw new UsageError('--mqtt-version must be 4 or 5');
  const protocolVersion = mqttVersion ? (Number(mqttVersion) as 4 | 5) : url === EMBEDDED_BUS_URL ? 4 : 5;
  const pick = (flag: string | undefined, name: string) => flag ?? env[name];
  const caFile = pick(v['tls-ca'], 'VIRTBUS_TLS_CA');
  const certFile = pick(v['tls-cert'], 'VIRTBUS_TLS_CERT');
  const tlsKey = pick(v['tls-key'], 'VIRTBUS_TLS_KEY');
  const servername = pick(v['tls-servername'], 'VIRTBUS_TLS_SERVERNAME');
  const tls = {
    ...(caFile && { caFile }),
    ...(certFile && { certFile }),
    ...(tlsKey && { keyFile: tlsKey }),
    ...(servername && { servername }),
    ...(v['tls-insecure'] && { insecure: true }),
  };
  if (tls.insecure) warnings.push('--tls-insecure: the server certificate is not verified');
  const auth = v['amqp-auth'] ?? env.VIRTBUS_AMQP_AUTH;
  if (auth !== undefined && auth !== 'plain' && auth !== 'external')
    throw new UsageError('--amqp-auth must be plain or external');
  const node = targetNode(v, env);
  return {
    url,
    node,
    warnings,
    options: {
      endpoint: Object.keys(tls).length ? { urls: url.split(','), tls } : url,
      ...(auth && { auth }),
      ...(v.caller && { caller: v.caller }),
      node,
      protocolVersion,
      ...(signer && { signer }),
      ...(v['user-id'] && { userId: v['user-id'] }),
    },
  };
}
