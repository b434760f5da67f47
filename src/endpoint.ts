// The one connection-settings seam: how to reach a server (a broker, Redis)
// — where (one URL or several of the same kind), as whom, over what TLS.
// Read once from configuration (src/agent/config.ts → endpointsOf) and
// handed as it is to every client: the AMQP and MQTT transports, the job
// store's Redis, the presence watch and the SDK. A new connection setting is
// a field here plus the lines of each client that apply it.
import { readFileSync } from 'node:fs';

export interface TlsSettings {
  /** PEM file(s) of the CA(s) the server's certificate must chain to (default: the system's) */
  caFile?: string;
  /** PEM client certificate, for brokers that want one (certificate identity) */
  certFile?: string;
  /** PEM private key of certFile */
  keyFile?: string;
  /** the name the server's certificate must carry, when it is not the URL's host */
  servername?: string;
  /** skip verifying the server's certificate; never in production */
  insecure?: boolean;
}

export interface Endpoint {
  /** one or more URLs of one scheme family (amqp/amqps, mqtt/mqtts, redis/rediss); each (re)connect tries the next */
  urls: string[];
  /** overrides the URL's user name */
  username?: string;
  /** overrides the URL's password */
  password?: string;
  /** for amqps://, mqtts://, rediss:// */
  tls?: TlsSettings;
}

/** What tls.connect (and amqplib, mqtt.js, ioredis on top of it) takes, read from TlsSettings. */
export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  servername?: string;
  rejectUnauthorized?: boolean;
}

/** What callers may hand over: one URL, a comma-separated list, an array, or a whole Endpoint. */
export type EndpointInput = string | string[] | Endpoint;

export type SchemeFamily = 'amqp' | 'mqtt' | 'redis';

const FAMILY: Record<string, SchemeFamily> = {
  'amqp:': 'amqp',
  'amqps:': 'amqp',
  'mqtt:': 'mqtt',
  'mqtts:': 'mqtt',
  'redis:': 'redis',
  'rediss:': 'redis',
};

export class EndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EndpointError';
  }
}

/** Normalises and checks an endpoint: at least one URL, all parseable, all of one scheme family. */
export function toEndpoint(input: EndpointInput): Endpoint {
  const e: Endpoint =
    typeof input === 'string'
      ? { urls: input.split(',') }
      : Array.isArray(input)
        ? { urls: input }
        : { ...input, urls: [...input.urls] };
  e.urls = e.urls.map((u) => u.trim()).filter((u) => u.length > 0);
  if (e.urls.length === 0) throw new EndpointError('no URL given');
  schemeFamily(e);
  return e;
}

/** The scheme family all URLs share; throws EndpointError if they are mixed or unparseable. */
export function schemeFamily(e: Endpoint): SchemeFamily {
  let family: SchemeFamily | undefined;
  for (const url of e.urls) {
    let protocol: string;
    try {
      protocol = new URL(url).protocol;
    } catch {
      throw new EndpointError(`not a URL: ${redactUrl(url)}`);
    }
    const f = FAMILY[protocol];
    if (!f)
      throw new EndpointError(
        `unsupported scheme '${protocol}' in ${redactUrl(url)}: use amqp(s)://, mqtt(s):// or redis(s)://`,
      );
    if (family && f !== family)
      throw new EndpointError(`URLs of one endpoint must be of one kind: ${e.urls.map(redactUrl).join(', ')}`);
    family = f;
  }
  return family!;
}

/**
 * Round-robin over the URLs, one per connect attempt: a list of cluster
 * nodes or fail-over brokers. With a `spreadBy` key (the node id) the
 * round starts at a URL picked by it, so a fleet given the same list spreads
 * over the cluster's nodes instead of all connecting to the first — the
 * same node always starts at the same URL.
 */
export function urlCursor(e: Endpoint, spreadBy?: string): () => string {
  let next = spreadBy === undefined ? 0 : firstUrlIndex(spreadBy, e.urls.length);
  return () => e.urls[next++ % e.urls.length];
}

/** Where the round of `key` starts in a list of n URLs (FNV-1a of the key). */
export function firstUrlIndex(key: string, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return n > 0 ? h % n : 0;
}

/** The URL with the endpoint's credentials put in (they override the URL's own). */
export function withCredentials(url: string, e: Endpoint): string {
  if (e.username === undefined && e.password === undefined) return url;
  const u = new URL(url);
  if (e.username !== undefined) u.username = encodeURIComponent(e.username);
  if (e.password !== undefined) u.password = encodeURIComponent(e.password);
  return u.toString();
}

/** Credentials for clients that take them apart from the URL (MQTT, Redis): the endpoint's, else the URL's. */
export function credentialsOf(url: string, e: Endpoint): { username?: string; password?: string } {
  const u = new URL(url);
  const username = e.username ?? (u.username ? decodeURIComponent(u.username) : undefined);
  const password = e.password ?? (u.password ? decodeURIComponent(u.password) : undefined);
  return { ...(username !== undefined && { username }), ...(password !== undefined && { password }) };
}

/**
 * Node's TLS options for one connect. The files are read now, at every
 * connect: a rotated certificate is picked up by the next reconnect.
 * undefined when the endpoint has no TLS settings (the system CAs apply).
 */
export function tlsOptions(e: Endpoint): TlsMaterial | undefined {
  const t = e.tls;
  if (!t) return undefined;
  const read = (f: string | undefined) => (f === undefined ? undefined : readFileSync(f));
  return {
    ...(t.caFile && { ca: read(t.caFile) }),
    ...(t.certFile && { cert: read(t.certFile) }),
    ...(t.keyFile && { key: read(t.keyFile) }),
    ...(t.servername && { servername: t.servername }),
    ...(t.insecure && { rejectUnauthorized: false }),
  };
}

/** Hides credentials in a URL for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

/** The endpoint for logs: URLs without passwords, never the password field. */
export function describeEndpoint(e: Endpoint): string {
  return e.urls.map(redactUrl).join(',');
}
