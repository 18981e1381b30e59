import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old space grow past what the last full collection kept, in percent. Left to itself, V8 lets
 * a small heap grow two to four times over before collecting it again; while history catches up, what it promotes
 * is almost all garbage (a fetch's records held across a transaction), and a full collection is also what frees the
 * fetches' buffers (views into them keep them alive): old space near 100 MB over a live heap of about 40 MB, some
 * 50 MB of dead buffers, 280 MB RSS. Bounded this way, the old space stays near the live heap (bench/README.md,
 * "Sixth run — history").
 */
export const OLD_SPACE_GROWTH_PERCENT = 30;

/**
 * Sets the bound for this process. Called by history's entry point (main.ts), before the service starts; not by
 * startHistory, so a process that runs history beside other work (a test) keeps V8's own heuristics. NODE_OPTIONS
 * cannot carry this V8 flag.
 */
export function boundOldSpaceGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${OLD_SPACE_GROWTH_PERCENT}`);
}
