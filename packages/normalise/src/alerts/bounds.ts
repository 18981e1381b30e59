import { cutMark, isHighSurrogate as isHigh, isLowSurrogate as isLow, type AlertReceived, type TextCut } from '@alertbus/schemas';

/**
 * The most characters (code points) an alert keeps of each text: what the sinks can show of it. A longer text is
 * still an alert worth paging, so it is cut, never refused.
 */
export const TEXT_LIMITS = {
  /** Slack's notification text of the root message shows at most 3,000 (its header 150, the pager's message 130). */
  title: 3_000,
  /** The pager's description holds 15,000 (Slack's section shows the first 3,000). */
  description: 15_000,
  /** Each annotation value: the description and the summary come from them, so they keep as much. */
  annotation: 15_000,
  /** Each label value: Slack shows every label in one 3,000-character section, the pager's details hold 8,000 in all. */
  label: 2_000,
} as const;

/** Code points in text: a surrogate pair counts once, as JSON Schema, Slack and the pager count. */
function codePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++, n++) if (isHigh(text.charCodeAt(i)) && i + 1 < text.length && isLow(text.charCodeAt(i + 1))) i++;
  return n;
}

/** Where (in UTF-16 units) the text's first `points` code points end: never between the two halves of a pair. */
function endOfPoints(text: string, points: number): number {
  let i = 0;
  for (let n = 0; n < points && i < text.length; n++) i += isHigh(text.charCodeAt(i)) && i + 1 < text.length && isLow(text.charCodeAt(i + 1)) ? 2 : 1;
  return i;
}

/**
 * The text cut to at most `max` code points, the mark included, and how many it lost; `removedBefore` is what an
 * earlier cut took off (the text then ends with its mark), so cutting a cut text again gives what cutting the
 * original to the smaller bound would have: the same input always makes the same event.
 */
export function cutText(text: string, max: number, removedBefore = 0): { text: string; removed: number } {
  const head = removedBefore > 0 && text.endsWith(cutMark(removedBefore)) ? text.slice(0, text.length - cutMark(removedBefore).length) : text;
  const before = head === text ? 0 : removedBefore;
  // A string is never more code points than UTF-16 units: most need no counting.
  if (text.length <= max && before === 0) return { text, removed: 0 };
  const headPoints = codePoints(head);
  if (headPoints + (before > 0 ? cutMark(before).length : 0) <= max) return { text, removed: before };
  const total = headPoints + before;
  // The mark of the longest possible cut: the mark of the real one is no longer, so the result stays within max.
  const keep = Math.max(0, Math.min(headPoints, max - cutMark(total).length));
  const removed = total - keep;
  return { text: head.slice(0, endOfPoints(head, keep)) + cutMark(removed), removed };
}

/**
 * The alert's title, description, annotation values and label values cut to their TEXT_LIMITS, or to `within` when
 * that is smaller (ingest's last resort for an alert over one Kafka record), each cut listed in `cut`. The same
 * object when nothing is over.
 */
export function boundAlertText(data: AlertReceived, within = Infinity): AlertReceived {
  if (data.cut === undefined && !anyOver(data, within)) return data;
  const cuts = new Map<string, TextCut>((data.cut ?? []).map((c) => [c.field, c]));
  let changed = false;
  const cut = (field: string, text: string, limit: number): string => {
    const max = Math.min(limit, within);
    const previous = cuts.get(field);
    if (text.length <= max && previous?.characters === undefined) return text;
    const out = cutText(text, max, previous?.characters ?? 0);
    if (out.text === text) return text;
    cuts.set(field, { ...previous, field, characters: out.removed });
    changed = true;
    return out.text;
  };
  const title = cut('title', data.title, TEXT_LIMITS.title);
  const description = data.description === undefined ? undefined : cut('description', data.description, TEXT_LIMITS.description);
  const annotations = boundMap(data.annotations, 'annotations.', TEXT_LIMITS.annotation, cut);
  const labels = boundMap(data.labels, 'labels.', TEXT_LIMITS.label, cut);
  if (!changed) return data;
  const bounded = { ...data, title, annotations, labels };
  if (description !== undefined) bounded.description = description;
  return withCuts(bounded, [...cuts.values()], data.raw);
}

/** Whether any text is longer in UTF-16 units than its bound in code points: a plain pass, no allocation, for every alert. */
function anyOver(data: AlertReceived, within: number): boolean {
  if (data.title.length > Math.min(TEXT_LIMITS.title, within)) return true;
  if (data.description !== undefined && data.description.length > Math.min(TEXT_LIMITS.description, within)) return true;
  return mapOver(data.annotations, Math.min(TEXT_LIMITS.annotation, within)) || mapOver(data.labels, Math.min(TEXT_LIMITS.label, within));
}

function mapOver(map: Readonly<Record<string, string>>, max: number): boolean {
  for (const key in map) {
    const value = map[key];
    if (typeof value === 'string' && value.length > max) return true;
  }
  return false;
}

/** The map with its values cut, or the same map when none is over (the common case costs one pass of length checks). */
function boundMap(
  map: Readonly<Record<string, string>>,
  prefix: string,
  limit: number,
  cut: (field: string, text: string, limit: number) => string,
): Record<string, string> {
  let out: Record<string, string> | undefined;
  for (const key in map) {
    if (!Object.prototype.hasOwnProperty.call(map, key)) continue;
    const value = map[key]!;
    const kept = cut(prefix + key, value, limit);
    if (kept !== value && out === undefined) out = { ...map };
    if (out !== undefined) out[key] = kept;
  }
  return out ?? (map as Record<string, string>);
}

/**
 * The alert with `cut` set (after what ingest says of the request, before raw, which stays last) and `raw` as given.
 * Cuts keep the order they were made in: title, description, annotations and labels as sent, then raw.
 */
export function withCuts(data: AlertReceived, cuts: readonly TextCut[], raw: unknown): AlertReceived {
  const out: Record<string, unknown> = {};
  for (const key in data) if (key !== 'cut' && key !== 'raw' && Object.prototype.hasOwnProperty.call(data, key)) out[key] = data[key as keyof AlertReceived];
  if (cuts.length > 0) out.cut = cuts;
  out.raw = raw;
  return out as AlertReceived;
}

/**
 * A JSON value (raw as received) with every string longer than `max` code points cut and marked, and how many
 * characters went in all; keys are kept whole. Unchanged parts are the same objects.
 */
export function cutJsonStrings(value: unknown, max: number): { value: unknown; removed: number } {
  if (typeof value === 'string') {
    const out = cutText(value, max);
    return { value: out.text, removed: out.removed };
  }
  if (value === null || typeof value !== 'object') return { value, removed: 0 };
  let removed = 0;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const out = cutJsonStrings(value[i], max);
      if (out.removed === 0) continue;
      removed += out.removed;
      copy ??= value.slice();
      copy[i] = out.value;
    }
    return { value: copy ?? value, removed };
  }
  let copy: Record<string, unknown> | undefined;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    const out = cutJsonStrings((value as Record<string, unknown>)[key], max);
    if (out.removed === 0) continue;
    removed += out.removed;
    copy ??= { ...(value as Record<string, unknown>) };
    copy[key] = out.value;
  }
  return { value: copy ?? value, removed };
}
