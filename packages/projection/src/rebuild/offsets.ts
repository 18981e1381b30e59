/** Stored projection offsets of two projections (live and rebuilt), and where they differ. */
import type { Pool, PoolClient } from 'pg';

export const offsetKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** topic/partition → next offset to apply, for one consumer, in the given schema. */
export async function readOffsets(db: Pool | PoolClient, schema: string, consumer: string): Promise<Map<string, string>> {
  const { rows } = await db.query<{ topic: string; partition: number; next_offset: string }>(
    `SELECT topic, "partition", next_offset FROM "${schema.replace(/"/g, '""')}".projection_offsets WHERE consumer = $1`,
    [consumer],
  );
  return new Map(rows.map((r) => [offsetKey(r.topic, r.partition), String(r.next_offset)]));
}

export interface OffsetDifference {
  topic: string;
  partition: number;
  /** null: nothing applied in that partition yet. */
  live: string | null;
  rebuilt: string | null;
}

export interface OffsetComparison {
  /** Partitions where the live projection has applied more: the rebuilt one must catch up before a swap. */
  liveAhead: OffsetDifference[];
  /** Partitions where the live projection is behind: comparing would compare different coverage. */
  liveBehind: OffsetDifference[];
}

const position = (v: string | undefined) => (v === undefined ? -1n : BigInt(v));

export function compareOffsets(live: Map<string, string>, rebuilt: Map<string, string>): OffsetComparison {
  const out: OffsetComparison = { liveAhead: [], liveBehind: [] };
  for (const key of new Set([...live.keys(), ...rebuilt.keys()])) {
    const l = live.get(key);
    const r = rebuilt.get(key);
    if (position(l) === position(r)) continue;
    const [topic, partition] = key.split('\u0000') as [string, string];
    const diff = { topic, partition: Number(partition), live: l ?? null, rebuilt: r ?? null };
    (position(l) > position(r) ? out.liveAhead : out.liveBehind).push(diff);
  }
  return out;
}
