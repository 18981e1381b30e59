/**
 * Alertmanager's matcher syntax (`name="value"`, `!=`, `=~`, `!~`), checked when a silence is created so a
 * typo is refused at the API instead of silencing nothing (or everything) in the router.
 */
import { matches, parseMatcher, regexCountProblem, type Matcher } from '@alertbus/schemas';

export { parseMatcher, type Matcher };

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

/** A matcher that lets (nearly) every alert through: it accepts a missing label, or any value the label holds. */
export const unselective = (m: Matcher): boolean => matchesEmpty(m) || matchesAnyValue(m);

export type CheckedMatchers = { ok: true; matchers: Matcher[]; silencesEverything: boolean } | { ok: false; error: string };

/** Every matcher parses; `silencesEverything` when none of them selects (or there are none). */
export function checkMatchers(texts: readonly string[]): CheckedMatchers {
  const matchers: Matcher[] = [];
  for (const text of texts) {
    const parsed = parseMatcher(text);
    if (!parsed.ok) return parsed;
    matchers.push(parsed.matcher);
  }
  const tooMany = regexCountProblem(matchers);
  if (tooMany) return { ok: false, error: tooMany };
  return { ok: true, matchers, silencesEverything: matchers.every(unselective) };
}
