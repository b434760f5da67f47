// The operator's listener on real sockets: HTTP and HTTPS (certificates
// minted per run by scripts/test-certs.sh, client certificates checked),
// basic auth, readiness, methods and paths.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseListen, startOpsServer, type OpsServer } from '../../src/ops/http-server';

const ROOT = join(__dirname, '..', '..');

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

async function get(url: string, init: RequestInit = {}): Promise<Answer> {
  const r = await fetch(url, init);
  return { status: r.status, body: await r.text(), headers: Object.fromEntries(r.headers) };
}

function httpsGet(url: string, o: { ca: Buffer; cert?: Buffer; key?: Buffer }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ...o, servername: 'localhost' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

let ready = false;
const base = {
  listen: '127.0.0.1:0',
  metrics: async () => ({
    body: '# HELP x_total a counter\n# TYPE x_total counter\nx_total 3\n',
    contentType: 'text/plain; version=0.0.4',
  }),
  readiness: () => ({ ready, bus: ready, libvirt: true, snapshot: ready, consuming: ready }),
};

const servers: OpsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function start(o: Partial<Parameters<typeof startOpsServer>[0]> = {}): Promise<OpsServer> {
  const s = await startOpsServer({ ...base, ...o });
  servers.push(s);
  return s;
}

test('listen addresses: host:port, [v6]:port, :port; anything else is refused', () => {
  expect(parseListen('127.0.0.1:9477')).toEqual({ host: '127.0.0.1', port: 9477 });
  expect(parseListen('[::1]:9477')).toEqual({ host: '::1', port: 9477 });
  expect(parseListen(':9477')).toEqual({ port: 9477 });
  for (const bad of ['9477', 'host', '127.0.0.1:99999', '127.0.0.1:', '[::1:9477', 'a:b:9477'])
    expect(() => parseListen(bad)).toThrow(/HOST:PORT/);
});

test('metrics, healthz, readyz (503 with what is missing, then 200), 404 and 405', async () => {
  const s = await start();
  expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const m = await get(`${s.url}/metrics`);
  expect(m.status).toBe(200);
  expect(m.headers['content-type']).toBe('text/plain; version=0.0.4');
  expect(m.body).toContain('x_total 3');
  expect(await get(`${s.url}/healthz`)).toMatchObject({ status: 200, body: 'ok\n' });
  ready = false;
  const notReady = await get(`${s.url}/readyz`);
  expect(notReady.status).toBe(503);
  expect(JSON.parse(notReady.body)).toEqual({
    ready: false,
    bus: false,
    libvirt: true,
    snapshot: false,
    consuming: false,
  });
  ready = true;
  expect((await get(`${s.url}/readyz?verbose=1`)).status).toBe(200);
  const missing = await get(`${s.url}/%3Cscript%3E`);
  expect(missing.status).toBe(404);
  expect(missing.body).not.toContain('script'); // nothing the request sent comes back
  const post = await get(`${s.url}/metrics`, { method: 'POST', body: 'x' });
  expect(post.status).toBe(405);
  expect(post.headers.allow).toBe('GET, HEAD');
  const head = await get(`${s.url}/metrics`, { method: 'HEAD' });
  expect(head).toMatchObject({ status: 200, body: '' });
});

test('a metrics collection that fails answers 500 and is reported, the listener stays', async () => {
  const errors: unknown[] = [];
  const s = await start({ metrics: () => Promise.reject(new Error('boom')), onError: (e) => errors.push(e) });
  expect((await get(`${s.url}/metrics`)).status).toBe(500);
  expect(errors).toEqual([new Error('boom')]);
  expect((await get(`${s.url}/healthz`)).status).toBe(200);
});

test('basic auth: every path needs it; a wrong password or user is 401', async () => {
  const s = await start({ basicAuth: { user: 'prometheus', password: 's3cret:with colon' } });
  const auth = (u: string, p: string) => ({
    headers: { authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` },
  });
  for (const path of ['/metrics', '/healthz', '/readyz']) {
    const r = await get(`${s.url}${path}`);
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toMatch(/^Basic realm=/);
  }
  expect((await get(`${s.url}/metrics`, auth('prometheus', 's3cret:with colon'))).status).toBe(200);
  expect((await get(`${s.url}/metrics`, auth('prometheus', 's3cret'))).status).toBe(401);
  expect((await get(`${s.url}/metrics`, auth('other', 's3cret:with colon'))).status).toBe(401);
  expect((await get(`${s.url}/metrics`, { headers: { authorization: 'Bearer x' } })).status).toBe(401);
});

test('a port in use is an error for the caller (the agent says so and exits)', async () => {
  const s = await start();
  const port = new URL(s.url).port;
  await expect(startOpsServer({ ...base, listen: `127.0.0.1:${port}` })).rejects.toMatchObject({ code: 'EADDRINUSE' });
});

describe('HTTPS', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'virtbus-ops-tls-'));
    execFileSync('bash', [join(ROOT, 'scripts', 'test-certs.sh'), dir, 'prometheus'], { stdio: 'pipe' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (n: string) => readFileSync(join(dir, n));

  test('with the operator certificate; without a CA any client is served', async () => {
    const s = await start({ tls: { certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key') } });
    expect(s.url).toMatch(/^https:/);
    const r = await httpsGet(`${s.url}/metrics`, { ca: file('ca.crt') });
    expect(r.status).toBe(200);
    expect(r.body).toContain('x_total 3');
    // plain HTTP to an HTTPS listener gets nothing
    await expect(fetch(`${s.url.replace('https', 'http')}/healthz`)).rejects.toThrow();
  });

  test('with a CA: a client certificate it signed is needed, a rogue CA one is refused', async () => {
    const s = await start({
      tls: { certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key'), caFile: join(dir, 'ca.crt') },
    });
    const ok = await httpsGet(`${s.url}/readyz`, {
      ca: file('ca.crt'),
      cert: file('prometheus.crt'),
      key: file('prometheus.key'),
    });
    expect(ok.status).toBe(200);
    await expect(httpsGet(`${s.url}/readyz`, { ca: file('ca.crt') })).rejects.toThrow(
      /certificate required|socket hang up|ECONNRESET/,
    );
    await expect(
      httpsGet(`${s.url}/readyz`, {
        ca: file('ca.crt'),
        cert: file('rogue-prometheus.crt'),
        key: file('rogue-prometheus.key'),
      }),
    ).rejects.toThrow(/unknown ca|socket hang up|ECONNRESET/);
  });
});
