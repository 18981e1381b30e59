/** Records read straight from the topics for an audit: decoded, validated, and never dropped when invalid. */
import { decodeEnvelope, type AnyEnvelope } from '@alertbus/schemas';
import type { ConsumedRecord } from '@alertbus/kafka';
import { stageOf, stageRank } from '../stage';

export interface AuditRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  /** Record timestamp, ISO (alertbus producers set it to the event's recordedAt). */
  timestamp: string;
  /** The event, when the record passes its schema. */
  event: AnyEnvelope | null;
  /** Why it does not, when it does not. */
  error: string | null;
}

export function toAuditRecord(r: ConsumedRecord): AuditRecord {
  const decoded = decodeEnvelope(r.value, r.topic);
  const ms = Number(r.timestamp);
  return {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    key: r.key,
    timestamp: Number.isFinite(ms) && ms >= 0 ? new Date(ms).toISOString() : String(r.timestamp),
    event: decoded.ok ? decoded.event : null,
    error: decoded.ok ? null : decoded.error,
  };
}

/** Position order: topic, partition, offset (exact for 64-bit offsets). */
export function byPosition(a: AuditRecord, b: AuditRecord): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.partition !== b.partition) return a.partition - b.partition;
  const d = BigInt(a.offset) - BigInt(b.offset);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

const rank = (r: AuditRecord) => stageRank(stageOf(r.event?.type ?? '', r.topic));

/** The projection's timeline order: recordedAt (or the record time of an invalid record), stage, position. */
export function byTimeline(a: AuditRecord, b: AuditRecord): number {
  const t = Date.parse(a.event?.recordedAt ?? a.timestamp) - Date.parse(b.event?.recordedAt ?? b.timestamp);
  if (t !== 0 && !Number.isNaN(t)) return t;
  const s = rank(a) - rank(b);
  if (s !== 0) return s;
  return byPosition(a, b) || ((a.event?.id ?? '') < (b.event?.id ?? '') ? -1 : (a.event?.id ?? '') > (b.event?.id ?? '') ? 1 : 0);
}
