/** Durations as Prometheus and Alertmanager write them: `500ms`, `90s`, `30m`, `1h30m`, `7d`, `2w`, `1y`. */
export const DURATION_UNIT_MS = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  y: 365 * 86_400_000,
} as const;

export type DurationUnit = keyof typeof DURATION_UNIT_MS;

/** The text a duration must match: one or more number+unit pairs (the rules schema uses it too). */
export const DURATION_PATTERN = '^([0-9]+(ms|s|m|h|d|w|y))+$';

const WHOLE = new RegExp(DURATION_PATTERN);
const PART = /([0-9]+)(ms|s|m|h|d|w|y)/g;

/** Milliseconds, or null when the text is not a duration (or too long to count in safe integers). `0s` is 0: callers that need a positive length say so. */
export function parseDuration(text: string): number | null {
  if (!WHOLE.test(text)) return null;
  let total = 0;
  for (const [, n, unit] of text.matchAll(PART)) total += Number(n) * DURATION_UNIT_MS[unit as DurationUnit];
  return Number.isSafeInteger(total) ? total : null;
}

/** The longest duration parseDuration counts (whole years within Number.MAX_SAFE_INTEGER milliseconds), as people write it. */
export const MAX_DURATION_TEXT = `${Math.floor(Number.MAX_SAFE_INTEGER / DURATION_UNIT_MS.y)}y`;

const FORMAT_UNITS: readonly DurationUnit[] = ['d', 'h', 'm', 's', 'ms'];

/** The inverse, in days at most (86400000 → `1d`, 5400000 → `1h30m`, 30 days → `30d`), so a message quotes a value as people write it. */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.round(ms));
  let out = '';
  for (const unit of FORMAT_UNITS) {
    const size = DURATION_UNIT_MS[unit];
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out || '0s';
}
