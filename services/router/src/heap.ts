import { setFlagsFromString } from 'node:v8';

/**
 * How far V8's old generation may grow past what the last full collection left alive before the next one: 50 %.
 * V8 picks this factor itself, up to 4× with a large heap limit (4 GB by default on a machine of 24 GB), and a router in flow promotes
 * much of what it allocates (a batch's records, decisions and encoded outputs live until their transaction commits,
 * longer than two scavenges), all of which dies in the old space. With about 40 MB alive, the old space then reached
 * 80–110 MB of mostly dead objects between full collections, and the fetched buffers those objects held another
 * 20–50 MB outside the heap: the router's RSS after the latency runs swung between 150 and 240 MB with the moment of
 * the last full collection (bench/README.md, "Tenth run — router memory"). At 1.5× the heap stayed under 70 MB in those runs.
 */
export const OLD_GENERATION_GROWTH_PERCENT = 50;

/**
 * Turns off V8's allocation-site pretenuring, which otherwise allocates what decisions build straight into the old
 * space, where it dies among the packed states held for every open incident and leaves pages a collection frees but
 * does not compact (old space twice the live heap with many open incidents, bench/router-memory.ts); and bounds the
 * old generation's growth between full collections (`OLD_GENERATION_GROWTH_PERCENT`). Called by `startRouter`, so
 * every way of starting the router has them (they apply from then on); NODE_OPTIONS cannot carry these V8 flags.
 */
export function keepShortLivedObjectsYoung(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
  setFlagsFromString(`--heap-growing-percent=${OLD_GENERATION_GROWTH_PERCENT}`);
}
