import type { Link } from '@alertbus/schemas';

/** Links worth showing, in order, without blanks or repeated URLs. */
export function linksOf(candidates: ReadonlyArray<readonly [string, string | undefined | null]>): Link[] {
  const seen = new Set<string>();
  const out: Link[] = [];
  for (const [title, url] of candidates) {
    if (typeof url !== 'string' || url.trim() === '' || seen.has(url)) continue;
    seen.add(url);
    out.push({ title, url });
  }
  return out;
}
