/**
 * An HTTP answer's body as text, read no further than `maxBytes` (the rest is not received: its connection is cancelled).
 * A character the cut splits is left out, not shown as U+FFFD.
 */
export async function readBounded(res: Response, maxBytes: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size >= maxBytes) {
      await reader.cancel();
      break;
    }
  }
  // `stream`: bytes of a character cut short at the end are held back for a next call that never comes.
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, maxBytes), { stream: true });
}
