/**
 * Merges per-partition lists (each already in offset order) into one list by recordedAt, ties broken by
 * partition number: the order one router holding every partition would most likely have decided them in,
 * and never reordering one partition's (so one alias's) inputs.
 */
export function mergeByRecordedAt<T extends { recordedAt: string }>(partitions: ReadonlyMap<number, readonly T[]>): T[] {
  const lists = [...partitions.entries()].sort(([a], [b]) => a - b).map(([, list]) => list);
  const heads = lists.map(() => 0);
  const out: T[] = [];
  for (;;) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      const item = lists[i]![heads[i]!];
      if (item === undefined) continue;
      if (best < 0 || item.recordedAt < lists[best]![heads[best]!]!.recordedAt) best = i;
    }
    if (best < 0) return out;
    out.push(lists[best]![heads[best]!]!);
    heads[best]! += 1;
  }
}
