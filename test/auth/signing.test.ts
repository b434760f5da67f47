// The signed lines, Ed25519 and base64url of contract v1 "Command
// authenticity", and the checked-in test vector other-language clients use.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { canonicalize } from '../../src/auth/jcs';
import {
  dataDigest,
  decodeSignature,
  signFields,
  signedText,
  signerFrom,
  verifyFields,
  type SignedFields,
} from '../../src/auth/signing';

const VECTOR = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'contracts', 'signing-test-vector.json'), 'utf8'),
) as {
  privateKeyPem: string;
  publicKeyPem: string;
  target: string;
  command: Record<string, unknown> & { data: unknown; signature: string };
  jcsOfData: string;
  dataDigest: string;
  signedText: string;
  signature: string;
};

const fieldsOf = (c: Record<string, unknown>, target: string): SignedFields => ({
  id: c.id as string,
  type: c.type as string,
  source: c.source as string,
  time: c.time as string,
  target,
  sigkeyid: c.sigkeyid as string,
  datacontenttype: c.datacontenttype as string | undefined,
  data: c.data,
});

describe('the checked-in test vector (contracts/signing-test-vector.json)', () => {
  test('every step reproduces: JCS of data, its digest, the nine lines, the signature', () => {
    const f = fieldsOf(VECTOR.command, VECTOR.target);
    expect(canonicalize(VECTOR.command.data)).toBe(VECTOR.jcsOfData);
    expect(dataDigest(VECTOR.command.data)).toBe(VECTOR.dataDigest);
    expect(signedText(f)).toBe(VECTOR.signedText);
    expect(VECTOR.signedText.split('\n')).toHaveLength(9);
    expect(VECTOR.signedText.endsWith('\n')).toBe(false);
    const signer = signerFrom(VECTOR.privateKeyPem, 'orch-test-1');
    expect(signFields(signer.privateKey, f)).toBe(VECTOR.signature);
    expect(verifyFields(createPublicKey(VECTOR.publicKeyPem), f, VECTOR.command.signature)).toBe(true);
  });

  test('it fails for another target, one changed byte of data, another type', () => {
    const key = createPublicKey(VECTOR.publicKeyPem);
    const f = fieldsOf(VECTOR.command, VECTOR.target);
    expect(verifyFields(key, { ...f, target: 'node2' }, VECTOR.signature)).toBe(false);
    expect(verifyFields(key, { ...f, target: 'all' }, VECTOR.signature)).toBe(false);
    expect(verifyFields(key, { ...f, data: { ...(f.data as object), to: 'node3' } }, VECTOR.signature)).toBe(false);
    expect(verifyFields(key, { ...f, type: 'virtbus.cmd.domain.destroy' }, VECTOR.signature)).toBe(false);
    expect(verifyFields(key, { ...f, datacontenttype: undefined }, VECTOR.signature)).toBe(false);
  });
});

test('absent data hashes as JCS of null; an absent content type is an empty line, never a default', () => {
  const base: SignedFields = {
    id: 'a',
    type: 't',
    source: 's',
    time: '2026-01-01T00:00:00.000Z',
    target: 'n',
    sigkeyid: 'k',
  };
  expect(dataDigest(undefined)).toBe(dataDigest(null));
  const lines = signedText(base).split('\n');
  expect(lines).toEqual(['virtbus-sig-v1', 'a', 't', 's', '2026-01-01T00:00:00.000Z', 'n', 'k', '', dataDigest(null)]);
  // member order and number form do not matter to the digest; values do
  expect(dataDigest({ b: 1.0, a: [1e3] })).toBe(dataDigest(JSON.parse('{"a":[1000],"b":1}')));
  expect(dataDigest({ a: 1 })).not.toBe(dataDigest({ a: '1' }));
});

test('signature text: exactly 86 base64url characters of canonical form, else malformed', () => {
  const { privateKey } = generateKeyPairSync('ed25519');
  const f: SignedFields = { id: 'a', type: 't', source: 's', time: 'x', target: 'n', sigkeyid: 'k', data: {} };
  const sig = signFields(privateKey, f);
  expect(sig).toMatch(/^[A-Za-z0-9_-]{86}$/);
  expect(decodeSignature(sig)).toHaveLength(64);
  expect(decodeSignature(`${sig}==`)).toBeUndefined(); // padded
  expect(decodeSignature(`+${sig.slice(1)}`)).toBeUndefined(); // the standard alphabet's + (and /) are not base64url
  expect(decodeSignature(sig.slice(0, 85))).toBeUndefined();
  // the last character carries 2 unused bits: a non-zero one is not the canonical text of any 64 bytes
  const last = sig[85];
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const stray = alphabet[(alphabet.indexOf(last) & ~3) | 1];
  expect(decodeSignature(sig.slice(0, 85) + stray)).toBeUndefined();
});

test('a signing key must be Ed25519 and its id must match the contract', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
  expect(() => signerFrom(rsa, 'k1')).toThrow(/not Ed25519/);
  expect(() => signerFrom(VECTOR.privateKeyPem, 'bad id')).toThrow(/must match/);
  expect(() => signerFrom(VECTOR.privateKeyPem, 'x'.repeat(65))).toThrow(/must match/);
});
