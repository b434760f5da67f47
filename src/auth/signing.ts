// Signed commands, contract v1 "Command authenticity": the nine signed lines,
// Ed25519 over their UTF-8 bytes, base64url without padding. Names and bytes
// are the contract's (other-language clients sign the same way): see
// contracts/signing-test-vector.json for one worked example.
import { createHash, createPrivateKey, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { canonicalize } from './jcs';

export const SIGNATURE_VERSION = 'virtbus-sig-v1';
/** a signed command's time, exactly: UTC, milliseconds */
export const SIGNED_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;
/** 64 bytes in base64url without padding: 86 characters */
const SIGNATURE_TEXT = /^[A-Za-z0-9_-]{86}$/;
/** the target of a broadcast command */
export const BROADCAST_TARGET = 'all';

/** What a signature covers, as the command carries it (target: where it arrived). */
export interface SignedFields {
  id: string;
  type: string;
  source: string;
  time: string;
  target: string;
  sigkeyid: string;
  /** the attribute as sent; undefined/absent: "" */
  datacontenttype?: string;
  /** absent: JCS of null */
  data?: unknown;
}

export const base64url = (b: Buffer): string => b.toString('base64url');

/** base64url(SHA-256(JCS(data))); absent data hashes as null. */
export function dataDigest(data: unknown): string {
  return base64url(
    createHash('sha256')
      .update(canonicalize(data === undefined ? null : data), 'utf8')
      .digest(),
  );
}

/** The nine lines, joined by \n, without a trailing newline. */
export function signedText(f: SignedFields): string {
  return [
    SIGNATURE_VERSION,
    f.id,
    f.type,
    f.source,
    f.time,
    f.target,
    f.sigkeyid,
    f.datacontenttype ?? '',
    dataDigest(f.data),
  ].join('\n');
}

/**
 * The 64 signature bytes, or undefined when the text is not exactly 86
 * base64url characters of canonical form (padding, other alphabets, stray
 * bits in the last character: all malformed, a bad signature).
 */
export function decodeSignature(text: string): Buffer | undefined {
  if (!SIGNATURE_TEXT.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.length === 64 && base64url(bytes) === text ? bytes : undefined;
}

/** Signs: the signature attribute's value. */
export function signFields(privateKey: KeyObject, f: SignedFields): string {
  return base64url(edSign(null, Buffer.from(signedText(f), 'utf8'), privateKey));
}

/** Whether the signature is the key's over these fields. */
export function verifyFields(publicKey: KeyObject, f: SignedFields, signature: string): boolean {
  const sig = decodeSignature(signature);
  if (!sig) return false;
  return edVerify(null, Buffer.from(signedText(f), 'utf8'), publicKey, sig);
}

/** A signing key (Ed25519, PEM PKCS#8) and the id the agents know its public half by. */
export interface Signer {
  keyId: string;
  privateKey: KeyObject;
}

export function signerFrom(pem: string | Buffer, keyId: string): Signer {
  if (!KEY_ID.test(keyId)) throw new Error(`key id '${keyId}' must match ${KEY_ID.source}`);
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`the signing key is ${privateKey.asymmetricKeyType ?? 'not an asymmetric key'}, not Ed25519`);
  }
  return { keyId, privateKey };
}

/** A time in the one form a signed command carries. */
export const signedTime = (d = new Date()): string => d.toISOString();
