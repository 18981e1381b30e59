/** Polls `probe` until it returns a truthy value; fails with the last value seen after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T> | T,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let last: T | undefined;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (last) return last as NonNullable<T>;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
  throw new Error(
    `timed out waiting for ${opts.what ?? 'condition'}; last value: ${JSON.stringify(last)}${lastErr ? `; last error: ${(lastErr as Error).message}` : ''}`,
  );
}
