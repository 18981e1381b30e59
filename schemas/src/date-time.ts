/**
 * RFC 3339 date-times in the form every producer writes (`2026-11-30T12:00:00.000Z`, `…+01:00`), checked by
 * character codes: ajv-formats' check splits the string by a regex and runs two more, about a microsecond each,
 * and an alert's events carry four or more of them. Only a "valid" is decided here; anything else (another form, a
 * leap second, an invalid date) goes to the full check, so the answers are always the full check's.
 */
const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const two = (s: string, at: number): number => (s.charCodeAt(at) - 48) * 10 + (s.charCodeAt(at + 1) - 48);

/** True when `s` is `YYYY-MM-DD[Tt ]HH:MM:SS[.d+](Z|z|±HH:MM)` with every field in range; false means "ask the full check". */
export function plainlyValidDateTime(s: string): boolean {
  const n = s.length;
  if (n < 20) return false;
  for (const i of [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]) if (!isDigit(s.charCodeAt(i))) return false;
  const sep = s.charCodeAt(10);
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || (sep !== 84 && sep !== 116 && sep !== 32) || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) {
    return false;
  }
  let i = 19;
  if (s.charCodeAt(i) === 46) {
    i++;
    const from = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    if (i === from) return false;
  }
  const zone = s.charCodeAt(i);
  if (zone === 90 || zone === 122) {
    if (i + 1 !== n) return false;
  } else if (zone === 43 || zone === 45) {
    if (i + 6 !== n || !isDigit(s.charCodeAt(i + 1)) || !isDigit(s.charCodeAt(i + 2)) || s.charCodeAt(i + 3) !== 58) return false;
    if (!isDigit(s.charCodeAt(i + 4)) || !isDigit(s.charCodeAt(i + 5)) || two(s, i + 1) > 23 || two(s, i + 4) > 59) return false;
  } else {
    return false;
  }
  const year = two(s, 0) * 100 + two(s, 2);
  const month = two(s, 5);
  const day = two(s, 8);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (month < 1 || month > 12 || day < 1 || day > (month === 2 && leap ? 29 : DAYS[month]!)) return false;
  return two(s, 11) <= 23 && two(s, 14) <= 59 && two(s, 17) <= 59;
}

/** The full check behind the quick one: the same answers, in less time for the usual form. */
export function quickDateTime(full: (s: string) => boolean): (s: string) => boolean {
  return (s) => plainlyValidDateTime(s) || full(s);
}
