// The connection-settings seam: what an Endpoint accepts, refuses and hands
// to clients (URL per attempt, credentials, TLS material read at each connect).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EndpointError,
  credentialsOf,
  describeEndpoint,
  schemeFamily,
  tlsOptions,
  toEndpoint,
  firstUrlIndex,
  urlCursor,
  withCredentials,
} from '../src/endpoint';

test('one URL, a comma-separated list, an array or an Endpoint all normalise to a URL list', () => {
  expect(toEndpoint('amqp://a:5672').urls).toEqual(['amqp://a:5672']);
  expect(toEndpoint('amqp://a:5672, amqps://b:5671').urls).toEqual(['amqp://a:5672', 'amqps://b:5671']);
  expect(toEndpoint(['mqtt://a', 'mqtts://b']).urls).toEqual(['mqtt://a', 'mqtts://b']);
  const e = toEndpoint({ urls: ['redis://r:6379'], password: 'p' });
  expect(e).toEqual({ urls: ['redis://r:6379'], password: 'p' });
});

test('refused: no URL, not a URL, an unknown scheme, URLs of two kinds', () => {
  expect(() => toEndpoint('')).toThrow(EndpointError);
  expect(() => toEndpoint(' , ')).toThrow('no URL given');
  expect(() => toEndpoint('not a url')).toThrow('not a URL');
  expect(() => toEndpoint('http://x')).toThrow("unsupported scheme 'http:'");
  expect(() => toEndpoint('amqp://a,mqtt://b')).toThrow('of one kind');
  expect(schemeFamily(toEndpoint('amqps://a'))).toBe('amqp');
});

test('each connect attempt takes the next URL, round robin', () => {
  const next = urlCursor(toEndpoint('amqp://a,amqp://b,amqp://c'));
  expect([next(), next(), next(), next()]).toEqual(['amqp://a', 'amqp://b', 'amqp://c', 'amqp://a']);
});

test('with a node id the round starts at a URL the id picks: a fleet spreads over the list, each node always alike', () => {
  const e = toEndpoint('amqp://a,amqp://b,amqp://c');
  const firsts = new Map<string, number>();
  for (let i = 0; i < 300; i++) {
    const node = `node-${i}`;
    const next = urlCursor(e, node);
    const first = next();
    expect([next(), next(), next()]).toEqual(
      [1, 2, 0].map((k) => e.urls[(e.urls.indexOf(first) + k) % 3]), // round robin from there
    );
    expect(urlCursor(e, node)()).toBe(first);
    expect(e.urls[firstUrlIndex(node, 3)]).toBe(first);
    firsts.set(first, (firsts.get(first) ?? 0) + 1);
  }
  for (const u of e.urls) expect(firsts.get(u)).toBeGreaterThan(70); // about 100 each
});

test("the endpoint's credentials override the URL's; passwords never appear in descriptions", () => {
  const e = toEndpoint({ urls: ['amqp://u:secret@h:5672/v'], username: 'agent', password: 'p@ss/word' });
  expect(withCredentials(e.urls[0], e)).toBe('amqp://agent:p%40ss%2Fword@h:5672/v');
  expect(credentialsOf(e.urls[0], e)).toEqual({ username: 'agent', password: 'p@ss/word' });
  const plain = toEndpoint('mqtt://user:pw%21@h:1883');
  expect(credentialsOf(plain.urls[0], plain)).toEqual({ username: 'user', password: 'pw!' });
  expect(withCredentials(plain.urls[0], plain)).toBe(plain.urls[0]);
  expect(describeEndpoint(toEndpoint('amqp://u:secret@a,amqp://b'))).not.toContain('secret');
});

test('TLS material is read from its files at every call (a rotated certificate is picked up on reconnect)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'virtbus-endpoint-'));
  try {
    const [ca, cert, key] = ['ca.pem', 'cert.pem', 'key.pem'].map((f) => join(dir, f));
    writeFileSync(ca, 'CA-1');
    writeFileSync(cert, 'CERT-1');
    writeFileSync(key, 'KEY-1');
    const e = toEndpoint({
      urls: ['amqps://h'],
      tls: { caFile: ca, certFile: cert, keyFile: key, servername: 'broker.example' },
    });
    expect(tlsOptions(e)).toEqual({
      ca: Buffer.from('CA-1'),
      cert: Buffer.from('CERT-1'),
      key: Buffer.from('KEY-1'),
      servername: 'broker.example',
    });
    writeFileSync(cert, 'CERT-2');
    expect(tlsOptions(e)?.cert).toEqual(Buffer.from('CERT-2'));
    expect(tlsOptions(toEndpoint({ urls: ['mqtts://h'], tls: { insecure: true } }))).toEqual({
      rejectUnauthorized: false,
    });
    expect(tlsOptions(toEndpoint('amqps://h'))).toBeUndefined();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
