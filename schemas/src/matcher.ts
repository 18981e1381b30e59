import { compilePattern, PATTERN_LIMITS, type Pattern } from './pattern';

/** Alertmanager's four matcher operators. */
export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  /** The matcher as written, for explanations. */
  readonly text: string;
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
  /** For =~ and !~: the value as a fully anchored RE2 regex (linear-time matching). */
  readonly regex?: Pattern;
}

export type ParsedMatcher = { ok: true; matcher: Matcher } | { ok: false; error: string };

const NAME = /^\s*([A-Za-z_][A-Za-z0-9_]*|"(?:[^"\\]|\\.)*")\s*(=~|!~|!=|=)\s*/;

/** A matcher quoted in an error message, cut short: the message must stay readable whatever was sent. */
function quoted(text: string): string {
  const points = Array.from(text);
  return JSON.stringify(points.length > 120 ? `${points.slice(0, 119).join('')}…` : text);
}

/**
 * A double-quoted value with OpenMetrics escapes, as Alertmanager reads it: `\"`, `\n` and `\\`; any other
 * backslash stays as written, so `"\d+"` is the regex \d+ (not d+, nor a JSON escape).
 */
function unquote(text: string): string | null {
  if (!/^"(?:[^"\\]|\\.)*"$/s.test(text)) return null;
  let out = '';
  for (let i = 1; i < text.length - 1; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = text[++i]!;
    out += next === 'n' ? '\n' : next === '"' || next === '\\' ? next : `\\${next}`;
  }
  return out;
}

/**
 * Parses one matcher in Alertmanager's syntax: `name="value"`, `name!="value"`, `name=~"regex"`,
 * `name!~"regex"`; values may be unquoted when they hold no spaces, quotes or commas.
 */
export function parseMatcher(text: string): ParsedMatcher {
  const head = NAME.exec(text);
  if (!head) {
    return { ok: false, error: `bad matcher ${quoted(text)}: expected name="value", name!="value", name=~"regex" or name!~"regex"` };
  }
  const rawName = head[1]!;
  const name = rawName.startsWith('"') ? unquote(rawName) : rawName;
  if (name === null || name === '') return { ok: false, error: `bad matcher ${quoted(text)}: empty label name` };
  const op = head[2] as MatchOp;
  const rest = text.slice(head[0].length).trimEnd();
  // As a shell or SQL habit, team='db' reads as quoted; Alertmanager's classic parser keeps the quotes in the value
  // (a matcher that never matches) and its UTF-8 parser refuses them: refused here, saying how to write it.
  if (rest.length >= 2 && rest.startsWith("'") && rest.endsWith("'")) {
    const inner = rest.slice(1, -1);
    const plain = !rawName.startsWith('"') && rawName.length <= 60 && /^[^\s"'\\,{}\p{C}]{0,60}$/u.test(inner);
    const how = !plain
      ? `the value in double quotes, as name${op}"value"`
      : inner === ''
        ? `${rawName}${op}""`
        : `${rawName}${op}${inner} or ${rawName}${op}"${inner}"`;
    return { ok: false, error: `bad matcher ${quoted(text)}: single quotes would be part of the value; write ${how}` };
  }
  let value: string | null;
  if (rest.startsWith('"')) value = unquote(rest);
  else value = /^[^\s",{}]*$/.test(rest) ? rest : null;
  if (value === null) {
    return {
      ok: false,
      error: `bad matcher ${quoted(text)}: the value must be a double-quoted string or a word without spaces, quotes or commas`,
    };
  }
  if (op === '=~' || op === '!~') {
    const compiled = compilePattern(value);
    if (!compiled.ok) return { ok: false, error: `bad regex in matcher ${quoted(text)}: ${compiled.error}` };
    return { ok: true, matcher: { text: text.trim(), name, op, value, regex: compiled.pattern } };
  }
  return { ok: true, matcher: { text: text.trim(), name, op, value } };
}

/**
 * Whether the labels satisfy the matcher; a missing label reads as "" (as in Alertmanager), a `constructor` or
 * `toString` the labels lack too (not Object.prototype's function, which RE2 refuses).
 */
export function matches(m: Matcher, labels: Readonly<Record<string, string>>): boolean {
  const v = Object.hasOwn(labels, m.name) ? labels[m.name]! : '';
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

/** Whether the matcher accepts a missing label (read as "", as Alertmanager does). */
export const matchesEmpty = (m: Matcher): boolean => matches(m, {});

/**
 * Values labels hold, of every kind: a matcher that accepts all of them (`=~".+"`, `!=""`) selects nothing by
 * its value. A probe cannot prove that a regex accepts every string, but no pattern written to choose alerts
 * accepts all of these.
 */
const PROBES = [
  'a', 'Z', '0', '9', 'x1', 'prod', 'critical', 'HighCPU', 'alertname', 'a b', ' ', '-', '.', '_', ':', '/', '"', '\\',
  '{}', 'é', '日本', '😀', 'a'.repeat(64), 'db-01.example.com:9100', 'https://example.com/x?y=z', 'Ω≈ç√',
];

export const matchesAnyValue = (m: Matcher): boolean => PROBES.every((v) => matches(m, { [m.name]: v }));

/**
 * Names whose values a silence sees are alertbus's own, not the alert's labels of that name (the router's matchers see
 * the pseudo-labels over the labels): only firing alerts are checked against silences, each from one of the webhooks.
 */
const SILENCE_PSEUDO_VALUES: Readonly<Record<string, readonly string[]>> = {
  status: ['firing'],
  source: ['alertmanager', 'grafana', 'generic'],
};
const pseudoValuesOf = (m: Matcher): readonly string[] | undefined =>
  Object.hasOwn(SILENCE_PSEUDO_VALUES, m.name) ? SILENCE_PSEUDO_VALUES[m.name] : undefined;

/**
 * A matcher that lets (nearly) every alert through: it accepts a missing label, or any value the label holds; on
 * `status` or `source`, every value a silence sees there (`status="firing"` mutes every alert). A silence of only such
 * matchers silences everything: the history API wants `allowAll` for it, a slash command refuses it.
 */
export const unselective = (m: Matcher): boolean => {
  const only = pseudoValuesOf(m);
  if (only) return only.every((v) => matches(m, { [m.name]: v }));
  return matchesEmpty(m) || matchesAnyValue(m);
};

/**
 * Why a silence's matcher on `status` or `source` can match no alert, or null: those names hold alertbus's values
 * (status `firing`; source `alertmanager`, `grafana`, `generic`), so `status="500"`, meant for an alert's own label of
 * that name, would let every alert through while people believe it muted.
 */
export function silencePseudoLabelProblem(m: Matcher): string | null {
  const only = pseudoValuesOf(m);
  if (!only || only.some((v) => matches(m, { [m.name]: v }))) return null;
  return `${m.name} is alertbus's own: silences see ${only.map((v) => `${m.name}="${v}"`).join(', ')} there, never an alert's label of that name, so this matcher would match no alert`;
}

/** Whether the matcher is a regex (`=~`, `!~`): those count against PATTERN_LIMITS.maxPerList. */
export const isRegexMatcher = (m: Matcher): boolean => m.op === '=~' || m.op === '!~';

/** The problem with a list holding more regex matchers than PATTERN_LIMITS allows, or null. */
export function regexCountProblem(matchers: readonly Matcher[]): string | null {
  const n = matchers.filter(isRegexMatcher).length;
  return n > PATTERN_LIMITS.maxPerList ? `${n} regex matchers (=~, !~) in one list; at most ${PATTERN_LIMITS.maxPerList} are allowed` : null;
}
