/**
 * Random but replayable fault timing: a seeded generator, the seed taken from FAULT_SEED when given (to replay
 * a run) or drawn and printed, and the kill schedule built from it.
 */
import { randomInt } from 'node:crypto';
import { mulberry32 } from '@alertbus/spec';

/** FAULT_SEED when set (a run being replayed), else a fresh one; either way it is printed, so any run can be replayed. */
export function faultSeed(what: string, env: NodeJS.ProcessEnv = process.env): number {
  const given = env.FAULT_SEED?.trim();
  let seed: number;
  if (given) {
    seed = Number(given);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new Error(`FAULT_SEED must be an integer from 0 to 4294967295, got "${given}"`);
    }
  } else {
    seed = randomInt(0, 0xffffffff);
  }
  process.stderr.write(`\n[faults] ${what}: seed ${seed} (replay with FAULT_SEED=${seed})\n`);
  return seed;
}

/**
 * For every service, `times` pauses in [0, maxPauseMs): the service is killed that long after it was last
 * (re)started and ready. Each service follows its own sequence, so kills land at unrelated moments, sometimes while
 * another service is still restarting. Drawn in a fixed order, so a seed gives the same schedule every time.
 */
export function killSchedule<S extends string>(opts: {
  seed: number;
  services: readonly S[];
  times: number;
  maxPauseMs: number;
}): Record<S, number[]> {
  const next = mulberry32(opts.seed);
  const out = Object.fromEntries(opts.services.map((s) => [s, [] as number[]])) as Record<S, number[]>;
  for (let i = 0; i < opts.times; i++) {
    for (const s of opts.services) out[s].push(Math.floor(next() * opts.maxPauseMs));
  }
  return out;
}
