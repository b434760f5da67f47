// `virtbus keygen`: a key pair whose private half only its owner reads, and
// the trusted keys entry an agent loads; the CLI prints it (table or --json).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicKey } from 'node:crypto';
import { keygen } from '../../src/cli/keygen';
import { parseTrustedKeys } from '../../src/auth/trusted-keys';
import { signFields, signerFrom, verifyFields } from '../../src/auth/signing';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'virtbus-keygen-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('writes the private key 0600 and the public key, and an entry the agent loads; signatures verify', () => {
  const r = keygen({ keyId: 'orch-1', out: join(dir, 'orch.key'), allow: ['domain.*', '*.list'] });
  expect(statSync(r.privateKeyFile).mode & 0o777).toBe(0o600);
  expect(readFileSync(r.publicKeyFile, 'utf8')).toBe(r.entry.publicKey);
  const trusted = parseTrustedKeys({ keys: [r.entry] }, 'entry').get('orch-1')!;
  expect(trusted.allows('domain.start')).toBe(true);
  expect(trusted.allows('vol.delete')).toBe(false);
  const signer = signerFrom(readFileSync(r.privateKeyFile), 'orch-1');
  const f = { id: 'a', type: 'virtbus.cmd.domain.start', source: 's', time: 't', target: 'n', sigkeyid: 'orch-1' };
  expect(verifyFields(createPublicKey(r.entry.publicKey), f, signFields(signer.privateKey, f))).toBe(true);
});

test('does not overwrite without force; a bad key id is refused', () => {
  keygen({ keyId: 'k', out: join(dir, 'k.key') });
  expect(() => keygen({ keyId: 'k', out: join(dir, 'k.key') })).toThrow(/exists; pass --force/);
  expect(keygen({ keyId: 'k', out: join(dir, 'k.key'), force: true }).entry.allow).toEqual(['*']);
  expect(() => keygen({ keyId: 'no spaces', out: join(dir, 'x.key') })).toThrow(/must match/);
});

test('the CLI prints the entry for people and as JSON for programs', () => {
  const cli = join(__dirname, '..', '..', 'dist', 'agent', 'virtbus.js');
  const text = execFileSync(process.execPath, [cli, 'keygen', '--key-id', 'ops', '--out', join(dir, 'ops.key')], {
    encoding: 'utf8',
  });
  expect(text).toMatch(/private key: .*ops\.key \(keep it secret\)/);
  expect(text).toMatch(/"id": "ops"/);
  const json = JSON.parse(
    execFileSync(process.execPath, [cli, 'keygen', '--key-id', 'ops2', '--out', join(dir, 'ops2.key'), '--json'], {
      encoding: 'utf8',
    }),
  ) as { entry: { id: string; allow: string[] } };
  expect(json.entry).toMatchObject({ id: 'ops2', allow: ['*'] });
});
