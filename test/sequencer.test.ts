/** The order jest runs test files in (test/sequencer.cjs): the longest first, by tier when no duration is cached. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const LongestFirst = require('./sequencer.cjs');

interface FakeTest {
  path: string;
  duration?: number;
  context: { config: { cache: boolean; displayName: { name: string } }; hasteFS: { getSize: () => number } };
}

const testOf = (path: string, tier: string, size: number): FakeTest => ({
  path,
  context: { config: { cache: false, displayName: { name: tier } }, hasteFS: { getSize: () => size } },
});

test('on a fresh clone (no durations): the scale test and the fault files first, whatever their size, then e2e, int, unit', () => {
  const tests = [
    testOf('big.test.ts', 'unit', 90_000),
    testOf('store.int.test.ts', 'int', 40_000),
    testOf('pager-outage.faults.test.ts', 'faults', 700),
    testOf('flow.e2e.test.ts', 'e2e', 20_000),
    testOf('scale.scale.test.ts', 'scale', 9_000),
    testOf('kill.faults.test.ts', 'faults', 2_000),
  ];
  const order = new LongestFirst({}).sort(tests).map((t: FakeTest) => t.path);
  // Within a tier, Jest's own order (the larger file first).
  expect(order).toEqual(['scale.scale.test.ts', 'kill.faults.test.ts', 'pager-outage.faults.test.ts', 'flow.e2e.test.ts', 'store.int.test.ts', 'big.test.ts']);
});

test('a cached duration is used instead of the tier', () => {
  const sequencer = new LongestFirst({});
  const slowUnit = testOf('slow.test.ts', 'unit', 100);
  const quickFault = testOf('quick.faults.test.ts', 'faults', 100);
  // What Jest read from the last run's perf cache: [status, duration in ms] by path.
  sequencer._cache.set(slowUnit.context, { 'slow.test.ts': [1, 400_000] });
  sequencer._cache.set(quickFault.context, { 'quick.faults.test.ts': [1, 5_000] });
  expect(sequencer.sort([quickFault, slowUnit]).map((t: FakeTest) => t.path)).toEqual(['slow.test.ts', 'quick.faults.test.ts']);
});
