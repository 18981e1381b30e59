import { setFlagsFromString } from 'node:v8';

/**
 * Turns off V8's allocation-site pretenuring, which otherwise allocates what decisions build straight into the old
 * space, where it dies among the packed states held for every open incident and leaves pages a collection frees but
 * does not compact (old space twice the live heap with many open incidents, bench/router-memory.ts). Called by
 * `startRouter`, so every way of starting the router has it; NODE_OPTIONS cannot carry this V8 flag.
 */
export function keepShortLivedObjectsYoung(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}
