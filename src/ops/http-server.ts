// The operator's listener: /metrics (Prometheus text), /healthz (the process
// answers) and /readyz (bus and libvirt connected, snapshot out, consuming:
// 200, else 503 with what is missing). HTTP, or HTTPS with the operator's
// certificate (and client certificates checked against a CA when one is
// given); basic auth when a user is set. Only GET and HEAD; nothing a
// request sends is echoed back.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { parseListen } from './listen';

export { parseListen };

export interface OpsServerOptions {
  /** host:port ([v6]:port); port 0 picks a free one */
  listen: string;
  /** the metrics text and its content type */
  metrics: () => Promise<{ body: string; contentType: string }>;
  readiness: () => { ready: boolean } & Record<string, unknown>;
  tls?: { certFile: string; keyFile: string; caFile?: string };
  basicAuth?: { user: string; password: string };
  onError?: (err: unknown) => void;
}

export interface OpsServer {
  /** where it listens, e.g. http://127.0.0.1:9477 */
  readonly url: string;
  close(): Promise<void>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

export async function startOpsServer(o: OpsServerOptions): Promise<OpsServer> {
  const { host, port } = parseListen(o.listen);
  const expected = o.basicAuth && digest(`${o.basicAuth.user}:${o.basicAuth.password}`);
  const authorized = (req: IncomingMessage): boolean => {
    if (!expected) return true;
    const m = /^Basic ([A-Za-z0-9+/=]{1,1024})$/.exec(req.headers.authorization ?? '');
    // compared as digests: the same length whatever was sent
    return !!m && timingSafeEqual(digest(Buffer.from(m[1], 'base64').toString('utf8')), expected);
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(405, 'method not allowed\n');
    }
    if (!authorized(req)) {
      res.setHeader('www-authenticate', 'Basic realm="virtbus-agent", charset="UTF-8"');
      return send(401, 'unauthorized\n');
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return send(200, 'ok\n');
    if (path === '/readyz') {
      const r = o.readiness();
      return send(r.ready ? 200 : 503, `${JSON.stringify(r)}\n`, 'application/json');
    }
    if (path === '/metrics') {
      o.metrics().then(
        (m) => send(200, m.body, m.contentType),
        (err: unknown) => {
          o.onError?.(err);
          send(500, 'metrics could not be collected\n');
        },
      );
      return;
    }
    send(404, 'not found: /metrics, /healthz, /readyz\n');
  };
  const server: Server = o.tls
    ? // https (and tls under it) loaded only when served: resident memory the plain listener does not need
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      (require('node:https') as typeof import('node:https')).createServer(
        {
          cert: readFileSync(o.tls.certFile),
          key: readFileSync(o.tls.keyFile),
          ...(o.tls.caFile && { ca: readFileSync(o.tls.caFile), requestCert: true, rejectUnauthorized: true }),
        },
        handler,
      )
    : createHttpServer(handler);
  // a scrape is small: slow or idle clients do not hold sockets
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, ...(host && { host }) }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => o.onError?.(err));
  const a = server.address() as AddressInfo;
  const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    url: `${o.tls ? 'https' : 'http'}://${shown}:${a.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
