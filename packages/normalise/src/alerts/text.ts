/** The first value that is a non-blank string: an empty summary must not become an empty title. */
export function firstText(...values: ReadonlyArray<string | undefined | null>): string | undefined {
  for (const v of values) if (typeof v === 'string' && v.trim() !== '') return v;
  return undefined;
}

const SEVERITY_MAX = 64;

/** Severity is free text at the source; the event schema bounds it to 64 characters. */
export function severityOf(...values: ReadonlyArray<string | undefined | null>): string {
  const s = firstText(...values) ?? 'unknown';
  return s.length > SEVERITY_MAX ? s.slice(0, SEVERITY_MAX) : s;
}
