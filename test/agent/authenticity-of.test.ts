// The configuration's command authenticity: what it switches on, and the
// idempotency window it needs (at least twice the signature skew, so every
// replay that passes the time check is still in the record).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { authenticityOf, reloadTrustedKeys } from '../../src/agent/authenticity-of';
import { ConfigError, loadConfig } from '../../src/agent/config';

let dir: string;
let keys: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'virtbus-auth-'));
  keys = join(dir, 'keys.json');
  const pem = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' });
  writeFileSync(keys, JSON.stringify({ keys: [{ id: 'k', publicKey: pem, allow: ['*'] }] }));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('nothing configured: anyone, the window as given', () => {
  const s = authenticityOf(loadConfig(['--idempotency-window', '30'], {}));
  expect(s.authenticity).toBeUndefined();
  expect(s.idempotencyWindowS).toBe(30);
});

test('trusted keys raise a short idempotency window to twice the skew, and say so', () => {
  const s = authenticityOf(
    loadConfig(
      ['--bus', 'amqp://h', '--trusted-keys', keys, '--signature-skew', '45', '--idempotency-window', '30'],
      {},
    ),
  );
  expect(s.authenticity?.requiresSignature).toBe(true);
  expect(s.idempotencyWindowS).toBe(90);
  expect(s.notes.join('\n')).toMatch(/raised from 30 s to 90 s/);
  // a long window stays
  expect(authenticityOf(loadConfig(['--trusted-keys', keys], {})).idempotencyWindowS).toBe(600);
});

test('trusted senders alone: no signatures; a broken keys file is a configuration error; reload reads the file again', () => {
  const s = authenticityOf(loadConfig(['--bus', 'amqp://h', '--trusted-senders', 'orch'], {}));
  expect(s.authenticity?.requiresSignature).toBe(false);
  writeFileSync(join(dir, 'bad.json'), '{"keys": 1}');
  expect(() => authenticityOf(loadConfig(['--trusted-keys', join(dir, 'bad.json')], {}))).toThrow(ConfigError);
  const cfg = loadConfig(['--trusted-keys', keys], {});
  const a = authenticityOf(cfg).authenticity;
  expect(reloadTrustedKeys(cfg, a)).toBe(1);
  expect(reloadTrustedKeys(loadConfig([], {}), undefined)).toBeUndefined();
});
