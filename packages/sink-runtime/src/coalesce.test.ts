/** Calls made while one is running wait for it and run together; each caller gets its own answer or error. */
import { Coalescer } from './coalesce';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test('calls of the same turn run as one; calls made while it runs run together after it', async () => {
  const runs: number[][] = [];
  const gate = deferred();
  const c = new Coalescer<number, number>(
    async (items) => {
      runs.push(items);
      if (runs.length === 1) await gate.promise;
      return items.map((i) => i * 10);
    },
    String,
  );
  const first = [c.submit(1), c.submit(2)];
  await new Promise((r) => setImmediate(r));
  const later = [c.submit(3), c.submit(4), c.submit(5)];
  await new Promise((r) => setImmediate(r));
  expect(runs).toEqual([[1, 2]]);
  gate.resolve();
  expect(await Promise.all([...first, ...later])).toEqual([10, 20, 30, 40, 50]);
  expect(runs).toEqual([[1, 2], [3, 4, 5]]);
});

test('a key is never twice in one run, and a run holds at most maxBatch items', async () => {
  const runs: string[][] = [];
  const c = new Coalescer<string, string>(async (items) => (runs.push(items), items), (s) => s, 2);
  expect(await Promise.all(['a', 'a', 'b', 'c'].map((s) => c.submit(s)))).toEqual(['a', 'a', 'b', 'c']);
  expect(runs).toEqual([['a', 'b'], ['a', 'c']]);
});

test('a failed run of several is run again item by item: only the bad item fails', async () => {
  const runs: number[][] = [];
  const c = new Coalescer<number, number>(
    async (items) => {
      runs.push(items);
      if (items.includes(2)) throw new Error('two is bad');
      return items;
    },
    String,
  );
  const results = await Promise.allSettled([1, 2, 3].map((i) => c.submit(i)));
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect(runs).toEqual([[1, 2, 3], [1], [2], [3]]);
});
