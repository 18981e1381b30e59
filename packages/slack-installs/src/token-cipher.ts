import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** A SLACK_TOKEN_KEY that is not 32 bytes of base64 or hex; the message never repeats the value. */
export class TokenKeyError extends Error {}

const VERSION = 'v1';

/** SLACK_TOKEN_KEY → the 32-byte AES-256 key: 64 hex digits, or base64 (standard or url-safe) of 32 bytes. */
export function parseTokenKey(raw: string): Buffer {
  const text = raw.trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    const key = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === 32) return key;
  }
  throw new TokenKeyError(
    'SLACK_TOKEN_KEY must be 32 random bytes, as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)',
  );
}

/**
 * AES-256-GCM with a fresh 12-byte nonce per token; the team id is bound as associated data, so a ciphertext
 * copied onto another team's row does not decrypt. Output: `v1.<nonce>.<tag>.<ciphertext>` (base64url).
 */
export function encryptToken(key: Buffer, teamId: string, token: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(teamId, 'utf8'));
  const ct = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
}

/** The token back, or an error that says only that it could not be decrypted (wrong key, or tampered). */
export function decryptToken(key: Buffer, teamId: string, sealed: string): string {
  const [version, iv, tag, ct] = sealed.split('.');
  if (version !== VERSION || !iv || !tag || ct === undefined) throw new Error(`the stored token of team ${teamId} is not in a known format`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(teamId, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new Error(`the stored token of team ${teamId} does not decrypt with SLACK_TOKEN_KEY (another key, or the row was altered)`);
  }
}
