/** Whether a value is a string with more than blanks in it. */
function isText(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== '';
}

/**
 * The first value that is a non-blank string: an empty summary must not become an empty title. Two parameters, not
 * a rest array: called several times per alert, an array made per call cost more than the test itself.
 */
export function firstText(a: string | undefined | null, b?: string | undefined | null): string | undefined {
  return isText(a) ? a : isText(b) ? b : undefined;
}

const SEVERITY_MAX = 64;

/** Severity is free text at the source; the event schema bounds it to 64 characters. */
export function severityOf(a: string | undefined | null, b?: string | undefined | null): string {
  const s = firstText(a, b) ?? 'unknown';
  if (s.length <= SEVERITY_MAX) return s;
  // Cut by code points, as the schema counts them: an emoji across the cut is kept whole, never half a pair.
  const points = Array.from(s);
  return points.length <= SEVERITY_MAX ? s : points.slice(0, SEVERITY_MAX).join('');
}
