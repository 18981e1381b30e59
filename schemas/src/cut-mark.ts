/**
 * The mark that ends a text cut to fit (`…[cut: N characters]`), part of the events' contract: ingest writes it
 * into an AlertReceived's texts, and the sinks' renderings read it back to say how much a reader does not see.
 */

/** Thousands grouped with commas by hand: toLocaleString depends on the machine's locale, and a cut must replay the same. */
export function groupedThousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** What ends a cut text, saying how much of it is gone (all ASCII but the ellipsis: its length is its code points). */
export function cutMark(removed: number): string {
  return `…[cut: ${groupedThousands(removed)} characters]`;
}

/** The first half of a UTF-16 surrogate pair. */
export function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/** The second half of a UTF-16 surrogate pair. */
export function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}
