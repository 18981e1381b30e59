/** HISTORY_API_TOKENS: NAME:ROLE:TOKEN entries, inline or from a file; a bad entry stops the boot without showing its token. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@alertbus/common';
import { parseApiTokens, readApiTokens } from './tokens';

const A = 'aaaaaaaaaaaaaaaa-viewer';
const B = 'bbbbbbbbbbbbbbbb-operator';
const C = 'cccc:cccc:cccccccc-admin'; // colons after the role belong to the token

describe('parseApiTokens', () => {
  it('reads NAME:ROLE:TOKEN entries separated by commas, spaces around them ignored', () => {
    expect(parseApiTokens(` grafana:viewer:${A} , alice:operator:${B},root:admin:${C} `, 'HISTORY_API_TOKENS')).toEqual([
      { name: 'grafana', role: 'viewer', token: A },
      { name: 'alice', role: 'operator', token: B },
      { name: 'root', role: 'admin', token: C },
    ]);
    expect(parseApiTokens('', 'HISTORY_API_TOKENS')).toEqual([]);
  });

  it.each([
    ['alice', /entry 1 is not NAME:ROLE:TOKEN/],
    [`alice:${B}`, /entry 1 is not NAME:ROLE:TOKEN/],
    [`alice:root:${B}`, /entry 1: the role must be one of viewer, operator, admin/],
    [`al ice:viewer:${B}`, /entry 1: the name must be letters, digits/],
    [`:viewer:${B}`, /entry 1: the name must be/],
    ['alice:viewer:short-token', /entry 1: the token must be at least 16 characters/],
    [`alice:viewer:${A},alice:admin:${B}`, /entry 2: the name "alice" is used twice/],
    [`alice:viewer:${A},bob:admin:${A}`, /entry 2: the same token is given twice/],
    [`alice:viewer:${A} x`, /must not contain spaces/],
    // The fields in another order: where the name goes stands the token, which the message must not quote.
    [`${A}:viewer:alice`, /entry 1: the token must be at least 16 characters/],
    [`${A}:alice:viewer`, /entry 1: the role must be one of/],
  ])('%j is refused with a message naming the entry', (text, message) => {
    let error: unknown;
    try {
      parseApiTokens(text, 'HISTORY_API_TOKENS');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toMatch(/^HISTORY_API_TOKENS entry \d/);
    // The message goes to a log or a terminal: never the token.
    for (const secret of [A, B, 'short-token']) expect((error as Error).message).not.toContain(secret);
  });
});

describe('readApiTokens', () => {
  const dir = mkdtempSync(join(tmpdir(), 'history-tokens-'));

  it('reads HISTORY_API_TOKENS_FILE: one entry a line (or commas), blank lines and # comments skipped', () => {
    const file = join(dir, 'tokens');
    writeFileSync(file, `# who may use the history API\ngrafana:viewer:${A}\n\nalice:operator:${B}, root:admin:${C}\n`);

    expect(readApiTokens({ HISTORY_API_TOKENS_FILE: file }).map((t) => [t.name, t.role])).toEqual([
      ['grafana', 'viewer'],
      ['alice', 'operator'],
      ['root', 'admin'],
    ]);
  });

  it('none set means no tokens; both set, or a file that cannot be read, stops the boot', () => {
    expect(readApiTokens({})).toEqual([]);
    expect(readApiTokens({ HISTORY_API_TOKENS: `alice:operator:${B}` })).toHaveLength(1);
    expect(() => readApiTokens({ HISTORY_API_TOKENS: `alice:operator:${B}`, HISTORY_API_TOKENS_FILE: join(dir, 'x') })).toThrow(
      'set HISTORY_API_TOKENS or HISTORY_API_TOKENS_FILE, not both',
    );
    expect(() => readApiTokens({ HISTORY_API_TOKENS_FILE: join(dir, 'missing') })).toThrow(/HISTORY_API_TOKENS_FILE: cannot read .*missing \(ENOENT\)/);
  });
});
