import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API key format: `sk-sutazai-<id>-<secret>`. The id (12 hex chars) is public — it names the key
 * in lists, logs and the usage log, and finds its row; the secret is 256 random bits (base64url).
 * Only SHA-256(key) is stored; a presented key is hashed and compared in constant time.
 */
const PREFIX = 'sk-sutazai-';
const KEY_RE = /^sk-sutazai-([0-9a-f]{12})-[A-Za-z0-9_-]{43}$/;

export interface NewKey {
  id: string;
  /** The key itself: shown once, never stored. */
  key: string;
  hash: string;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function generateKey(): NewKey {
  const id = randomBytes(6).toString('hex');
  const key = `${PREFIX}${id}-${randomBytes(32).toString('base64url')}`;
  return { id, key, hash: sha256Hex(key) };
}

/** The key id inside a well-formed key, else undefined (no lookup for malformed keys). */
export function keyIdOf(key: string): string | undefined {
  return KEY_RE.exec(key)?.[1];
}

/** Constant-time comparison of two hex SHA-256 digests. */
export function sameHash(aHex: string, bHex: string): boolean {
  const a = Buffer.from(aHex, 'hex');
  const b = Buffer.from(bHex, 'hex');
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}
