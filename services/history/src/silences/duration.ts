/** Durations as Prometheus and Alertmanager write them: `2h`, `30m`, `1h30m`, `1d`, `90s`. */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds, or null when the text is not a positive duration. */
export function parseDuration(text: string): number | null {
  if (!/^(\d+(ms|s|m|h|d|w))+$/.test(text)) return null;
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) total += Number(n) * UNIT_MS[unit!]!;
  return total > 0 && Number.isSafeInteger(total) ? total : null;
}

const FORMAT_UNITS: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000], ['ms', 1]];

/** The inverse, in days at most (`30d`, `1h30m`, `1000d`), so a message can quote a limit as it is written. */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.round(ms));
  let out = '';
  for (const [unit, size] of FORMAT_UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out || '0s';
}
