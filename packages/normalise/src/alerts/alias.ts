import { createHash } from 'node:crypto';

/** Labels in name order, so the same set hashes the same whatever order the source sent them in. */
function sortedEntries(labels: Readonly<Record<string, string>>): Array<[string, string]> {
  return Object.keys(labels)
    .sort()
    .map((k) => [k, labels[k]!]);
}

/** The fallback alias part when a source sends no fingerprint: sha256 of the sorted labels, 16 hex. */
export function labelHash(labels: Readonly<Record<string, string>>, ...extra: string[]): string {
  const input = JSON.stringify(extra.length > 0 ? [sortedEntries(labels), ...extra] : sortedEntries(labels));
  return createHash('sha256').update(input).digest('hex').slice(0, 16);
}
