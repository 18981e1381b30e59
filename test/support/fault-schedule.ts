/**
 * Random but replayable fault timing: a seeded generator, the seed taken from FAULT_SEED when given (to replay
 * a run) or drawn and printed, and the kill schedule built from it.
 */
import { randomInt } from 'node:crypto';

/** mulberry32: a small, fast, well-mixed 32-bit generator; the same seed gives the same sequence everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

export interface Kill<S extends string> {
  service: S;
  /** Milliseconds after the round starts. */
  atMs: number;
}

export interface KillRound<S extends string> {
  /** Pause before the round starts, after every service of the previous round is back. */
  gapMs: number;
  /** Every service once, in the order they are killed. */
  kills: Array<Kill<S>>;
}

/**
 * `rounds` rounds in which every service is killed once at a random point of the round, so each service is
 * killed `rounds` times, sometimes while another one is still restarting.
 */
export function killSchedule<S extends string>(opts: {
  seed: number;
  services: readonly S[];
  rounds: number;
  roundMs: number;
  maxGapMs: number;
}): Array<KillRound<S>> {
  const next = seededRandom(opts.seed);
  return Array.from({ length: opts.rounds }, () => {
    const gapMs = Math.floor(next() * opts.maxGapMs);
    const kills = opts.services
      .map((service) => ({ service, atMs: Math.floor(next() * opts.roundMs) }))
      .sort((a, b) => a.atMs - b.atMs);
    return { gapMs, kills };
  });
}
