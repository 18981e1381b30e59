import type { Link } from '@alertbus/schemas';

/** Links worth showing, in order, without blanks or repeated URLs. */
export function linksOf(candidates: ReadonlyArray<readonly [string, string | undefined | null]>): Link[] {
  const out: Link[] = [];
  for (const [title, url] of candidates) addLink(out, title, url);
  return out;
}

/**
 * Adds a link to `out` unless its URL is blank or already there: what linksOf does, one candidate at a time, for
 * callers that would otherwise build an array of pairs per alert (a few links: a scan beats a Set).
 */
export function addLink(out: Link[], title: string, url: string | undefined | null): void {
  if (typeof url !== 'string' || url.trim() === '') return;
  for (let i = 0; i < out.length; i++) if (out[i]!.url === url) return;
  out.push({ title, url });
}
