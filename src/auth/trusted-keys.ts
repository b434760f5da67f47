// The trusted keys file (contract v1, "Command authenticity"):
//   { "keys": [ { "id": "orch-1", "publicKey": "<PEM SPKI Ed25519>", "allow": ["domain.*", "*.list"] } ] }
// JSON, or the same structure in YAML. `allow` holds command names without
// the virtbus.cmd. prefix; `*` matches any run of characters, dots included.
import { readFileSync } from 'node:fs';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { KEY_ID } from './signing';

export interface TrustedKey {
  id: string;
  publicKey: KeyObject;
  /** the patterns as written */
  allow: string[];
  /** whether the key may sign this command (name without prefix) */
  allows(command: string): boolean;
}

export class TrustedKeysError extends Error {}

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}

/** Checks and compiles the file's structure; `where` names it in errors. */
export function parseTrustedKeys(doc: unknown, where: string): Map<string, TrustedKey> {
  const fail = (msg: string): never => {
    throw new TrustedKeysError(`trusted keys ${where}: ${msg}`);
  };
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { keys?: unknown }).keys)) {
    fail('expected an object with a "keys" array');
  }
  const out = new Map<string, TrustedKey>();
  (doc as { keys: unknown[] }).keys.forEach((k, i) => {
    const at = `keys[${i}]`;
    if (typeof k !== 'object' || k === null) fail(`${at} is not an object`);
    const { id, publicKey, allow } = k as Record<string, unknown>;
    if (typeof id !== 'string' || !KEY_ID.test(id)) fail(`${at}.id must match ${KEY_ID.source}`);
    if (out.has(id as string)) fail(`${at}.id '${id as string}' appears twice`);
    if (typeof publicKey !== 'string') fail(`${at}.publicKey must be a PEM string`);
    let key: KeyObject;
    try {
      key = createPublicKey(publicKey as string);
    } catch (e) {
      return fail(`${at}.publicKey is not a public key: ${(e as Error).message}`);
    }
    if (key.asymmetricKeyType !== 'ed25519') fail(`${at}.publicKey is ${key.asymmetricKeyType}, not Ed25519`);
    if (!Array.isArray(allow) || !allow.every((a) => typeof a === 'string' && a.length > 0)) {
      fail(`${at}.allow must be a list of command names or patterns`);
    }
    const patterns = (allow as string[]).map(globToRegExp);
    out.set(id as string, {
      id: id as string,
      publicKey: key,
      allow: [...(allow as string[])],
      allows: (command) => patterns.some((p) => p.test(command)),
    });
  });
  return out;
}

/** Reads and checks the file (JSON, or YAML when it does not parse as JSON). */
export function loadTrustedKeys(path: string): Map<string, TrustedKey> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TrustedKeysError(`trusted keys ${path}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- YAML only when the file is not JSON
      doc = (require('yaml') as typeof import('yaml')).parse(text);
    } catch (e) {
      throw new TrustedKeysError(`trusted keys ${path}: neither JSON nor YAML: ${(e as Error).message}`);
    }
  }
  return parseTrustedKeys(doc, path);
}
