/** Opaque page cursors: base64url JSON the API hands out and checks on the way back in. */
export function encodeCursor<T extends object>(value: T): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** The cursor's value, or null when it is not one this API could have handed out. */
export function decodeCursor<T extends object>(cursor: string, isValid: (value: Record<string, unknown>) => boolean): T | null {
  if (!/^[A-Za-z0-9_-]{1,1000}$/.test(cursor)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
    return isValid(value as Record<string, unknown>) ? (value as T) : null;
  } catch {
    return null;
  }
}

/**
 * A keyset page out of `limit + 1` rows fetched: the first `limit`, and the cursor of the next page (made from the
 * page's last row) when the extra row says there is one.
 */
export function keysetPage<R>(rows: R[], limit: number, cursorOf: (last: R) => object): { page: R[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  return { page, nextCursor: more && last !== undefined ? encodeCursor(cursorOf(last)) : null };
}
