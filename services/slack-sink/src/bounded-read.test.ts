import { readBounded } from './bounded-read';

/** An answer whose body arrives in the chunks given, counting how many of them were pulled. */
function answer(chunks: Uint8Array[]): { res: Response; pulled: () => number } {
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else controller.close();
    },
  });
  return { res: new Response(body), pulled: () => i };
}

describe('readBounded', () => {
  it('returns a body shorter than the bound whole', async () => {
    const { res } = answer([Buffer.from('{"ok":'), Buffer.from('true}')]);
    await expect(readBounded(res, 800)).resolves.toBe('{"ok":true}');
  });

  it('stops pulling once the bound is reached and returns the first maxBytes', async () => {
    const chunk = Buffer.alloc(100, 'a');
    const { res, pulled } = answer(Array.from({ length: 50 }, () => chunk));
    const text = await readBounded(res, 250);
    expect(text).toBe('a'.repeat(250));
    // Three chunks reach the bound; the stream may have queued one more ahead of the read, never the other 46.
    expect(pulled()).toBeLessThanOrEqual(4);
  });

  it('leaves out a character the bound cuts through, instead of a replacement character', async () => {
    // "é" is two bytes in UTF-8: the bound falls between them.
    const { res } = answer([Buffer.from('abcé and more')]);
    const text = await readBounded(res, 4);
    expect(text).toBe('abc');
    expect(text).not.toContain('\uFFFD');
  });
});
