import { setFlagsFromString } from 'node:v8';

/**
 * Turns off V8's allocation-site pretenuring for this process. With it on, V8 sees the states a decision builds
 * survive while the router unpacks, packs and indexes them, and allocates them straight in the old space from
 * then on; there they die next to the packed states that live for the incident's lifetime, so a full collection
 * frees them but cannot compact the pages they shared: with a million open incidents the old space was twice the
 * live heap (bench/router-memory.ts). Off, they die in the young generation and only the states that live are
 * copied out of it. Set from the router's own start (`startRouter`), so every way of starting it (`npm start`,
 * `alertbus serve router`, the image, deploy/) runs with it; NODE_OPTIONS cannot carry this V8 flag.
 */
export function keepShortLivedObjectsYoung(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}
