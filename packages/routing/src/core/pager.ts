import type { AlertReceived, Labels, Link } from '@alertbus/schemas';
import { cutToFit } from './cut-mark';
import { codePoints, sortedEntries, truncate } from './text';
import { labelsWithoutCredentials, linksWithoutCredentials, withoutCredentials } from './shown-text';

/** Opsgenie's field limits (Alert API v2); Alertmanager truncates the message the same way, by code points. */
export const PAGER_LIMITS = { message: 130, description: 15000, detailsTotal: 8000, tags: 20, tag: 50, note: 25000 } as const;

/** The pager alert's message: the title (credentials redacted, as in everything of the sender's a page shows), cut to fit. */
export function pagerMessage(title: string): string {
  return truncate(title.trim() === '' ? 'alert' : withoutCredentials(title), PAGER_LIMITS.message);
}

/** The most of the pager's description that the severity, source, values, labels and links take; the description has the rest. */
export const PAGER_FACTS_MAX = 5_000;

/** How many of an alert's measured values the page shows, and how long a value's name may be. */
export const PAGER_VALUES = { count: 20, name: 100 } as const;

/** "A=2473545728, C=1": the values in the order sent, numbers as JSON writes them, bounded; null when there are none. */
export function pagerValuesLine(values: Readonly<Record<string, number | null>> | undefined): string | null {
  if (values === undefined) return null;
  const entries = Object.entries(values);
  if (entries.length === 0) return null;
  const shown = entries.slice(0, PAGER_VALUES.count).map(([k, v]) => `${truncate(k.replace(/\s+/g, ' '), PAGER_VALUES.name)}=${v === null ? 'null' : String(v)}`);
  const more = entries.length - shown.length;
  return `Values: ${shown.join(', ')}${more > 0 ? `, … (+${more} more)` : ''}`;
}

/**
 * The alert's description, then its severity, source, measured values, labels and links, as plain text within Opsgenie's limit. The
 * description is cut first, so the facts a responder acts on are always there (themselves cut past PAGER_FACTS_MAX);
 * a cut text ends with the mark ingest uses, counting what ingest cut of it too. Credentials in what the sender wrote
 * are redacted first.
 */
export function pagerDescription(a: Pick<AlertReceived, 'description' | 'labels' | 'links' | 'severity' | 'source' | 'cut' | 'values'>): string {
  const values = pagerValuesLine(a.values);
  const facts: string[] = [`Severity: ${a.severity}\nSource: ${a.source}${values !== null ? `\n${values}` : ''}`];
  const labels = sortedEntries(labelsWithoutCredentials(a.labels));
  if (labels.length) facts.push(`Labels:\n${labels.map(([k, v]) => `- ${k}=${v}`).join('\n')}`);
  if (a.links.length) facts.push(`Links:\n${linksWithoutCredentials(a.links).map((l: Link) => `- ${l.title}: ${l.url}`).join('\n')}`);
  const description = withoutCredentials(a.description?.trim() ?? '');
  if (description === '') return cutToFit(facts.join('\n\n'), PAGER_LIMITS.description).text;
  const tail = cutToFit(facts.join('\n\n'), PAGER_FACTS_MAX).text;
  // Only a description ingest says it cut ends with ingest's mark; the same words sent by the alert are its text.
  const ingestCut = a.cut?.some((c) => c.field === 'description' && c.characters !== undefined) ?? false;
  const head = cutToFit(description, PAGER_LIMITS.description - codePoints(tail) - 2, { earlier: ingestCut });
  return truncate(`${head.text}\n\n${tail}`, PAGER_LIMITS.description);
}

/**
 * Labels as pager details plus alertbus's own keys, kept under Opsgenie's total size. Opsgenie does not say how it
 * counts its 8000 characters; the count here is the strictest reading, the details as JSON (quotes, escapes, colons,
 * commas and braces included): counting keys and values alone let 90 ordinary labels through at 7,914 that were
 * 8,473 as sent, and a create refused with 422 is a page nobody gets. Entries that do not fit are left out. The labels'
 * credentials are redacted; `extra` is alertbus's own.
 */
export function pagerDetails(labels: Labels, extra: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  let used = 2; // {}
  for (const [k, v] of [...Object.entries(extra), ...sortedEntries(labelsWithoutCredentials(labels))]) {
    if (Object.hasOwn(out, k)) continue;
    const size = codePoints(JSON.stringify(k)) + codePoints(JSON.stringify(v)) + 2; // "k":"v",
    if (used + size > PAGER_LIMITS.detailsTotal) continue;
    // A label named `__proto__` is a detail like any other: assigned, it would set the object's prototype and be lost.
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    used += size;
  }
  return out;
}

export function pagerTags(tags: readonly string[]): string[] {
  return [...new Set(tags.map((t) => truncate(t, PAGER_LIMITS.tag)))].slice(0, PAGER_LIMITS.tags);
}
