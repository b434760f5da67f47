// `virtbus keygen`: an Ed25519 key pair for signing commands. The private
// key goes to a file only its owner can read; the entry for the agents'
// trusted keys file is printed (contract v1, "Command authenticity").
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { KEY_ID } from '../auth/signing';

export interface KeygenOptions {
  keyId: string;
  /** where the private key (PEM, PKCS#8) is written; <out>.pub gets the public key */
  out: string;
  /** the entry's allowlist (default: every command) */
  allow?: string[];
  /** replace existing files */
  force?: boolean;
}

export interface KeygenResult {
  privateKeyFile: string;
  publicKeyFile: string;
  /** one element of the trusted keys file's "keys" */
  entry: { id: string; publicKey: string; allow: string[] };
}

export function keygen(o: KeygenOptions): KeygenResult {
  if (!KEY_ID.test(o.keyId)) throw new Error(`key id '${o.keyId}' must match ${KEY_ID.source}`);
  const pub = `${o.out}.pub`;
  for (const f of [o.out, pub]) {
    if (!o.force && existsSync(f)) throw new Error(`${f} exists; pass --force to replace it`);
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  writeFileSync(o.out, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(pub, publicPem, { mode: 0o644 });
  return {
    privateKeyFile: o.out,
    publicKeyFile: pub,
    entry: { id: o.keyId, publicKey: publicPem, allow: o.allow?.length ? o.allow : ['*'] },
  };
}
