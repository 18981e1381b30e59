/**
 * Alertmanager's matcher syntax (`name="value"`, `!=`, `=~`, `!~`), checked when a silence is created so a
 * typo is refused at the API instead of silencing nothing (or everything) in the router.
 */
export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  name: string;
  op: MatchOp;
  value: string;
}

export type ParsedMatcher = { ok: true; matcher: Matcher } | { ok: false; error: string };

const HEAD = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*/;

function unquote(text: string): string | null {
  if (!/^"(?:[^"\\]|\\.)*"$/.test(text)) return null;
  return text.slice(1, -1).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

export function parseMatcher(text: string): ParsedMatcher {
  const head = HEAD.exec(text);
  if (!head) {
    return { ok: false, error: `bad matcher ${JSON.stringify(text)}: expected name="value", name!="value", name=~"regex" or name!~"regex"` };
  }
  const name = head[1]!;
  const op = head[2] as MatchOp;
  const rest = text.slice(head[0].length).trimEnd();
  const value = rest.startsWith('"') ? unquote(rest) : /^[^\s",{}]*$/.test(rest) ? rest : null;
  if (value === null) {
    return { ok: false, error: `bad matcher ${JSON.stringify(text)}: the value must be a double-quoted string or a word without spaces, quotes or commas` };
  }
  if (op === '=~' || op === '!~') {
    try {
      new RegExp(`^(?:${value})$`, 'u');
    } catch (err) {
      return { ok: false, error: `bad regex in matcher ${JSON.stringify(text)}: ${(err as Error).message}` };
    }
  }
  return { ok: true, matcher: { name, op, value } };
}

/** Whether the matcher accepts a missing label (read as ""): a silence made only of such matchers silences everything. */
export function matchesEmpty(m: Matcher): boolean {
  switch (m.op) {
    case '=':
      return m.value === '';
    case '!=':
      return m.value !== '';
    case '=~':
      return new RegExp(`^(?:${m.value})$`, 'u').test('');
    case '!~':
      return !new RegExp(`^(?:${m.value})$`, 'u').test('');
  }
}

/** Every matcher parses, and at least one of them does not match everything (as Alertmanager requires). */
export function checkMatchers(texts: readonly string[]): { ok: true; matchers: Matcher[] } | { ok: false; error: string } {
  if (texts.length === 0) return { ok: false, error: 'at least one matcher is required' };
  const matchers: Matcher[] = [];
  for (const text of texts) {
    const parsed = parseMatcher(text);
    if (!parsed.ok) return parsed;
    matchers.push(parsed.matcher);
  }
  if (matchers.every(matchesEmpty)) {
    return { ok: false, error: 'the matchers would silence every alert: at least one must not match an empty or missing label' };
  }
  return { ok: true, matchers };
}
