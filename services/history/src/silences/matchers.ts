/**
 * Alertmanager's matcher syntax (`name="value"`, `!=`, `=~`, `!~`), checked when a silence is created so a
 * typo is refused at the API instead of silencing nothing (or everything) in the router.
 */
import { parseMatcher, regexCountProblem, type Matcher } from '@alertbus/schemas';

export { parseMatcher, type Matcher };

/** Whether the matcher accepts a missing label (read as ""): a silence made only of such matchers silences everything. */
export function matchesEmpty(m: Matcher): boolean {
  switch (m.op) {
    case '=':
      return m.value === '';
    case '!=':
      return m.value !== '';
    case '=~':
      return m.regex!.test('');
    case '!~':
      return !m.regex!.test('');
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
  const tooMany = regexCountProblem(matchers);
  if (tooMany) return { ok: false, error: tooMany };
  if (matchers.every(matchesEmpty)) {
    return { ok: false, error: 'the matchers would silence every alert: at least one must not match an empty or missing label' };
  }
  return { ok: true, matchers };
}
