/**
 * Alertmanager's matcher syntax (`name="value"`, `!=`, `=~`, `!~`), checked when a silence is created so a
 * typo is refused at the API instead of silencing nothing (or everything) in the router.
 */
import { parseMatcher, regexCountProblem, silencePseudoLabelProblem, unselective, type Matcher } from '@alertbus/schemas';

export { parseMatcher, type Matcher };

export type CheckedMatchers = { ok: true; matchers: Matcher[]; silencesEverything: boolean } | { ok: false; error: string };

/** Every matcher parses; `silencesEverything` when none of them selects (or there are none). */
export function checkMatchers(texts: readonly string[]): CheckedMatchers {
  const matchers: Matcher[] = [];
  for (const text of texts) {
    const parsed = parseMatcher(text);
    if (!parsed.ok) return parsed;
    const never = silencePseudoLabelProblem(parsed.matcher);
    if (never) return { ok: false, error: `${text}: ${never}` };
    matchers.push(parsed.matcher);
  }
  const tooMany = regexCountProblem(matchers);
  if (tooMany) return { ok: false, error: tooMany };
  return { ok: true, matchers, silencesEverything: matchers.every(unselective) };
}
