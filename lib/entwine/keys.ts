import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TributaryError } from '../errors';

function readPem(path: string, what: string): string {
  if (typeof path !== 'string' || path.trim() === '') throw new TributaryError('BAD_OPTION', `${what}: a PEM file path is required`);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TributaryError('BAD_OPTION', `${what}: cannot read ${path}${code ? ` (${code})` : ''}`);
  }
}

function ed25519(key: KeyObject, what: string, path: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new TributaryError('BAD_OPTION', `${what}: ${path} holds a ${key.asymmetricKeyType ?? 'non-asymmetric'} key, not an Ed25519 key`);
  }
  return key;
}

/**
 * Reads an Ed25519 private key from a PEM file (PKCS#8, as `openssl genpkey -algorithm ed25519`
 * writes). A missing file, an unreadable one or another key type is an error naming `what`.
 *
 * @example
 * ```ts
 * const key = loadPrivateKey('./keys/a.pem', "entwine 'chain': option 'privateKey'");
 * ```
 */
export function loadPrivateKey(path: string, what: string): KeyObject {
  const pem = readPem(path, what);
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new TributaryError('BAD_OPTION', `${what}: ${path} is not a PEM private key`);
  }
  return ed25519(key, what, path);
}

/**
 * Reads an Ed25519 public key (SPKI PEM) from a file; a private key file is accepted too (its
 * public half is taken).
 *
 * @example
 * ```ts
 * const pub = loadPublicKey('./keys/a.pub.pem', '--public-key');
 * ```
 */
export function loadPublicKey(path: string, what: string): KeyObject {
  const pem = readPem(path, what);
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new TributaryError('BAD_OPTION', `${what}: ${path} is not a PEM public or private key`);
  }
  return ed25519(key, what, path);
}

/**
 * A public key as SPKI PEM text (how proofs carry it and substreams record it).
 *
 * @example
 * ```ts
 * publicKeyPem(createPublicKey(privateKey)); // '-----BEGIN PUBLIC KEY-----\n…'
 * ```
 */
export function publicKeyPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * Parses SPKI PEM text into an Ed25519 public key; throws a plain error saying why.
 *
 * @example
 * ```ts
 * parsePublicKey(proof.publicKey);
 * ```
 */
export function parsePublicKey(pem: unknown): KeyObject {
  if (typeof pem !== 'string') throw new Error('publicKey: must be SPKI PEM text');
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new Error('publicKey: not a PEM public key');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('publicKey: not an Ed25519 key');
  return key;
}
