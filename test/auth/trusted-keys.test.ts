// The trusted keys file: structure checked with a clear message, JSON or
// YAML, and allowlist patterns where `*` matches any run of characters.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { loadTrustedKeys, parseTrustedKeys, TrustedKeysError } from '../../src/auth/trusted-keys';

const pem = () => generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'virtbus-keys-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('allow patterns: * matches any run of characters including dots; everything else literally', () => {
  const keys = parseTrustedKeys(
    { keys: [{ id: 'orch-1', publicKey: pem(), allow: ['domain.*', '*.list', 'agent.ping'] }] },
    'test',
  );
  const k = keys.get('orch-1')!;
  for (const ok of ['domain.start', 'domain.snapshot.create', 'pool.list', 'domain.list', 'agent.ping'])
    expect(k.allows(ok)).toBe(true);
  for (const no of ['agent.status', 'vol.delete', 'agent.pingx', 'xdomain.start', 'domainXstart'])
    expect(k.allows(no)).toBe(false);
  const all = parseTrustedKeys({ keys: [{ id: 'root', publicKey: pem(), allow: ['*'] }] }, 'test').get('root')!;
  expect(all.allows('vol.delete')).toBe(true);
});

test('JSON and YAML files load the same keys', () => {
  const key = pem();
  writeFileSync(join(dir, 'k.json'), JSON.stringify({ keys: [{ id: 'a', publicKey: key, allow: ['*'] }] }));
  writeFileSync(
    join(dir, 'k.yaml'),
    `keys:\n  - id: a\n    publicKey: |\n${key
      .trim()
      .split('\n')
      .map((l) => `      ${l}`)
      .join('\n')}\n    allow: ["*"]\n`,
  );
  expect([...loadTrustedKeys(join(dir, 'k.json')).keys()]).toEqual(['a']);
  expect(loadTrustedKeys(join(dir, 'k.yaml')).get('a')!.publicKey.asymmetricKeyType).toBe('ed25519');
});

test.each([
  ['no keys array', {}, /"keys" array/],
  ['bad id', { keys: [{ id: 'a b', publicKey: 'x', allow: ['*'] }] }, /id must match/],
  ['not a key', { keys: [{ id: 'a', publicKey: 'nonsense', allow: ['*'] }] }, /not a public key/],
  ['empty allow entry', { keys: [{ id: 'a', publicKey: 'P', allow: [''] }] }, /allow must be/],
])('refused with a clear message: %s', (_what, doc, message) => {
  const d = JSON.parse(JSON.stringify(doc).replace('"P"', JSON.stringify(pem()))) as unknown;
  expect(() => parseTrustedKeys(d, 'keys.json')).toThrow(TrustedKeysError);
  expect(() => parseTrustedKeys(d, 'keys.json')).toThrow(message);
});

test('a key that is not Ed25519, a repeated id, a missing file', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' });
  expect(() => parseTrustedKeys({ keys: [{ id: 'a', publicKey: ec, allow: ['*'] }] }, 'f')).toThrow(/not Ed25519/);
  const k = pem();
  expect(() =>
    parseTrustedKeys(
      {
        keys: [
          { id: 'a', publicKey: k, allow: ['*'] },
          { id: 'a', publicKey: k, allow: ['*'] },
        ],
      },
      'f',
    ),
  ).toThrow(/appears twice/);
  expect(() => loadTrustedKeys(join(dir, 'missing.json'))).toThrow(/ENOENT/);
});
