/** Alertmanager's four matcher operators. */
export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  /** The matcher as written, for explanations. */
  readonly text: string;
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
  /** For =~ and !~: the value as a fully anchored regex. */
  readonly regex?: RegExp;
}

export type ParsedMatcher = { ok: true; matcher: Matcher } | { ok: false; error: string };

const NAME = /^\s*([A-Za-z_][A-Za-z0-9_]*|"(?:[^"\\]|\\.)*")\s*(=~|!~|!=|=)\s*/;

function unquote(text: string): string | null {
  if (!/^"(?:[^"\\]|\\.)*"$/.test(text)) return null;
  try {
    return JSON.parse(text) as string;
  } catch {
    // Alertmanager accepts escapes JSON does not (e.g. \.), so unescape by hand.
    return text.slice(1, -1).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
  }
}

/**
 * Parses one matcher in Alertmanager's syntax: `name="value"`, `name!="value"`, `name=~"regex"`,
 * `name!~"regex"`; values may be unquoted when they hold no spaces, quotes or commas.
 */
export function parseMatcher(text: string): ParsedMatcher {
  const head = NAME.exec(text);
  if (!head) {
    return { ok: false, error: `bad matcher ${JSON.stringify(text)}: expected name="value", name!="value", name=~"regex" or name!~"regex"` };
  }
  const rawName = head[1]!;
  const name = rawName.startsWith('"') ? unquote(rawName) : rawName;
  if (name === null || name === '') return { ok: false, error: `bad matcher ${JSON.stringify(text)}: empty label name` };
  const op = head[2] as MatchOp;
  const rest = text.slice(head[0].length).trimEnd();
  let value: string | null;
  if (rest.startsWith('"')) value = unquote(rest);
  else value = /^[^\s",{}]*$/.test(rest) ? rest : null;
  if (value === null) {
    return {
      ok: false,
      error: `bad matcher ${JSON.stringify(text)}: the value must be a double-quoted string or a word without spaces, quotes or commas`,
    };
  }
  if (op === '=~' || op === '!~') {
    try {
      return { ok: true, matcher: { text: text.trim(), name, op, value, regex: new RegExp(`^(?:${value})$`, 'u') } };
    } catch (err) {
      return { ok: false, error: `bad regex in matcher ${JSON.stringify(text)}: ${(err as Error).message}` };
    }
  }
  return { ok: true, matcher: { text: text.trim(), name, op, value } };
}

/** Whether the labels satisfy the matcher; a missing label reads as "" (as in Alertmanager). */
export function matches(m: Matcher, labels: Readonly<Record<string, string>>): boolean {
  const v = labels[m.name] ?? '';
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return m.regex!.test(v);
    case '!~':
      return !m.regex!.test(v);
  }
}

/** Whether every matcher is satisfied (an empty list matches everything). */
export function matchesAll(matchers: readonly Matcher[], labels: Readonly<Record<string, string>>): boolean {
  return matchers.every((m) => matches(m, labels));
}
