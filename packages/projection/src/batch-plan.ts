/**
 * Which records of one partition's batch still need applying, given the next offset stored with the
 * projection: the stored offset, not Kafka's committed one, decides what was applied already.
 */
import type { AnyEnvelope, ValidationResult } from '@alertbus/schemas';
import type { Projection } from './types';

export interface PlannableRecord {
  offset: string;
  decoded: ValidationResult;
  /** The decoded event's projection at this record's position, when made before the transaction. */
  projection?: Projection;
}

export interface BatchPlan<R extends PlannableRecord> {
  apply: Array<{ record: R; event: AnyEnvelope }>;
  /** Records that fail their schema: dead-lettered, and their offsets covered like any other. */
  invalid: Array<{ record: R; error: string }>;
  /** Records below the stored next offset: applied before (a redelivery). */
  alreadyApplied: number;
  /** The next offset to store, or null when the batch holds nothing new. */
  nextOffset: string | null;
}

export function planBatch<R extends PlannableRecord>(records: readonly R[], storedNext: string | null): BatchPlan<R> {
  const from = storedNext === null ? null : BigInt(storedNext);
  const plan: BatchPlan<R> = { apply: [], invalid: [], alreadyApplied: 0, nextOffset: null };
  let last: bigint | null = null;
  for (const record of records) {
    const offset = BigInt(record.offset);
    if ((from !== null && offset < from) || (last !== null && offset <= last)) {
      plan.alreadyApplied += 1;
      continue;
    }
    last = offset;
    if (record.decoded.ok) plan.apply.push({ record, event: record.decoded.event });
    else plan.invalid.push({ record, error: record.decoded.error });
  }
  plan.nextOffset = last === null ? null : (last + 1n).toString();
  return plan;
}
