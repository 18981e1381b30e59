/**
 * Jest's order of test files: longest first, so that no worker is left with a long file at the end of the run
 * while the others are idle. Jest's own sequencer orders by the durations of the last run when it has them (a
 * developer's machine); on a fresh clone (CI) it has none and orders by file size, which puts the fault suite's
 * short files (two minutes of outage in 21 lines) last. Without a duration, a file's tier stands in for it.
 */
const Sequencer = require('@jest/test-sequencer').default;

/** About how long a file of each tier takes on 2 cores, in ms: only their order matters. */
const TIER_MS = { scale: 300_000, faults: 150_000, e2e: 40_000, int: 10_000, unit: 1_000 };

class LongestFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const estimate = (test) => {
      if (test.duration != null) return test.duration;
      const tier = test.context.config.displayName?.name;
      return TIER_MS[tier] ?? 0;
    };
    const failed = new Set(sorted.filter((t) => this.hasFailed(t)));
    // Failed files first (as Jest does), then by duration or its estimate; ties keep Jest's order (size).
    return sorted
      .map((test, i) => ({ test, i, first: failed.has(test) ? 0 : 1, ms: estimate(test) }))
      .sort((a, b) => a.first - b.first || b.ms - a.ms || a.i - b.i)
      .map((x) => x.test);
  }
}

module.exports = LongestFirst;
