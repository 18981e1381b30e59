/**
 * Cutting a text to fit a sink the way ingest cuts an alert's text (packages/normalise, alerts/bounds.ts): the text
 * ends with `…[cut: N characters]`, N counting every character the reader does not see, ingest's cut included, so
 * a reader always knows that text is missing and how much, whoever cut it.
 */

import { cutMark, isHighSurrogate as isHigh, isLowSurrogate as isLow } from '@alertbus/schemas';

/** The mark at a text's end, read from its last characters only (a bounded, anchored match). */
const TRAILING_MARK = /…\[cut: (\d{1,3}(?:,\d{3}){0,4}) characters\]$/;

/**
 * The text without the mark an earlier cut left at its end, and how many characters that cut took; the text
 * itself and 0 when it ends with no mark (or with one ingest would not have written).
 */
export function earlierCut(text: string): { head: string; removed: number } {
  const m = TRAILING_MARK.exec(text.slice(-48));
  if (!m) return { head: text, removed: 0 };
  const removed = Number(m[1]!.replace(/,/g, ''));
  const mark = cutMark(removed);
  if (removed < 1 || !text.endsWith(mark)) return { head: text, removed: 0 };
  return { head: text.slice(0, text.length - mark.length), removed };
}

/** How many characters a code point becomes once escaped for Slack mrkdwn (`&amp;`, `&lt;`, `&gt;`). */
const mrkdwnWidth = (c: number): number => (c === 0x26 ? 5 : c === 0x3c || c === 0x3e ? 4 : 1);
const plainWidth = (): number => 1;

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Where the grapheme cluster `end` falls in starts (UTF-16 units), so a cut inside 👨‍👩‍👧‍👦 or a flag leaves no other symbol
 * behind; only a window around the cut is segmented, and past 64 units the code point boundary stands.
 */
function graphemeStart(text: string, end: number): number {
  if (end <= 0 || end >= text.length) return end;
  const from = Math.max(0, end - 64);
  let boundary = from;
  for (const { index } of graphemes.segment(text.slice(from, Math.min(text.length, end + 64)))) {
    if (from + index > end) break;
    boundary = from + index;
  }
  return boundary === from && from > 0 ? end : boundary;
}

export interface Cut {
  /** The text as shown: escaped when it is mrkdwn, ending with the mark when anything is missing. */
  text: string;
  /** Characters (code points) of the text as the alert had it that the reader does not see; 0 when none. */
  removed: number;
}

export interface CutOptions {
  /** Escape the text for Slack mrkdwn; the escapes count towards `max` and a cut never falls inside one. */
  mrkdwn?: boolean;
  /** The text may end with an earlier cut's mark (one of the alert's own texts): its count is added to this cut's. */
  earlier?: boolean;
}

/**
 * The text in at most `max` code points as shown (escapes and the mark included): whole when it fits, else its head,
 * never ending inside a surrogate pair, a grapheme cluster or an escape, then the mark of all that is missing.
 */
export function cutToFit(text: string, max: number, opts: CutOptions = {}): Cut {
  const { head, removed: before } = opts.earlier ? earlierCut(text) : { head: text, removed: 0 };
  const width = opts.mrkdwn ? mrkdwnWidth : plainWidth;
  const shown = opts.mrkdwn ? escape(text) : text;
  // A string is never more code points than UTF-16 units: most need no counting.
  if (shown.length <= max) return { text: shown, removed: before };
  let points = 0;
  let size = 0;
  for (let i = 0; i < text.length; i++, points++) {
    const c = text.charCodeAt(i);
    size += width(c);
    if (isHigh(c) && i + 1 < text.length && isLow(text.charCodeAt(i + 1))) i++;
  }
  if (size <= max) return { text: shown, removed: before };
  let headPoints = points;
  if (head !== text) {
    headPoints = 0;
    for (let i = 0; i < head.length; i++, headPoints++) if (isHigh(head.charCodeAt(i)) && i + 1 < head.length && isLow(head.charCodeAt(i + 1))) i++;
  }
  const total = headPoints + before;
  // The mark of the longest possible cut: the real one is no longer, so the result stays within max.
  const budget = Math.max(0, max - cutMark(total).length);
  let end = 0;
  let kept = 0;
  let used = 0;
  while (end < head.length) {
    const c = head.charCodeAt(end);
    const units = isHigh(c) && end + 1 < head.length && isLow(head.charCodeAt(end + 1)) ? 2 : 1;
    const w = width(c);
    if (used + w > budget) break;
    used += w;
    end += units;
    kept++;
  }
  const start = graphemeStart(head, end);
  for (let i = start; i < end; i++, kept--) if (isHigh(head.charCodeAt(i)) && i + 1 < end && isLow(head.charCodeAt(i + 1))) i++;
  const shownHead = opts.mrkdwn ? escape(head.slice(0, start)) : head.slice(0, start);
  return { text: shownHead + cutMark(total - kept), removed: total - kept };
}
