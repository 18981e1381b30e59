/**
 * The history API's tokens, `NAME:ROLE:TOKEN` each, from HISTORY_API_TOKENS or the file HISTORY_API_TOKENS_FILE.
 * Error messages name an entry by its position and name, never by its token.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, envOptional } from '@alertbus/common';

/** In increasing order of power: each role may do what the roles before it may. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const roleRank = (role: Role): number => ROLES.indexOf(role);

export interface ApiToken {
  /** Who holds the token: recorded as the author of what it writes (silences, expiries). */
  name: string;
  role: Role;
  token: string;
}

/** Short tokens can be guessed; 16 characters is the least `openssl rand -hex 8` gives. */
export const MIN_TOKEN_LENGTH = 16;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** Entries separated by commas or newlines; blank lines and lines starting with `#` are skipped. */
export function parseApiTokens(text: string, source: string): ApiToken[] {
  const entries = text
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .join(',')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const tokens: ApiToken[] = [];
  entries.forEach((entry, i) => {
    const first = entry.indexOf(':');
    const second = first < 0 ? -1 : entry.indexOf(':', first + 1);
    const name = first < 0 ? '' : entry.slice(0, first).trim();
    // By position only: with the fields in another order (TOKEN:ROLE:NAME), what stands where the name goes is the token.
    const where = `${source} entry ${i + 1}`;
    if (second < 0) throw new ConfigError(`${where} is not NAME:ROLE:TOKEN`);
    const role = entry.slice(first + 1, second).trim();
    const token = entry.slice(second + 1).trim();
    if (!NAME.test(name)) {
      throw new ConfigError(`${where}: the name must be letters, digits, ".", "_", "@" or "-" (at most 64), starting with a letter or digit`);
    }
    if (!(ROLES as readonly string[]).includes(role)) {
      throw new ConfigError(`${where}: the role must be one of ${ROLES.join(', ')}`);
    }
    if (token.length < MIN_TOKEN_LENGTH) throw new ConfigError(`${where}: the token must be at least ${MIN_TOKEN_LENGTH} characters`);
    if (/\s/.test(token)) throw new ConfigError(`${where}: the token must not contain spaces`);
    if (tokens.some((t) => t.name === name)) throw new ConfigError(`${where}: the name "${name}" is used twice`);
    if (tokens.some((t) => t.token === token)) throw new ConfigError(`${where}: the same token is given twice`);
    tokens.push({ name, role: role as Role, token });
  });
  return tokens;
}

/** HISTORY_API_TOKENS, or the file HISTORY_API_TOKENS_FILE names (one of them; none → no tokens). */
export function readApiTokens(env: Record<string, string | undefined>): ApiToken[] {
  const inline = envOptional(env, 'HISTORY_API_TOKENS');
  const file = envOptional(env, 'HISTORY_API_TOKENS_FILE');
  if (inline !== undefined && file !== undefined) {
    throw new ConfigError('set HISTORY_API_TOKENS or HISTORY_API_TOKENS_FILE, not both');
  }
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`HISTORY_API_TOKENS_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    return parseApiTokens(text, 'HISTORY_API_TOKENS_FILE');
  }
  return inline === undefined ? [] : parseApiTokens(inline, 'HISTORY_API_TOKENS');
}
