/**
 * @alertbus/projection: the events of an incident's story made into Postgres rows (and the same rows in
 * memory, for specs), applied batch by batch with the offsets they cover; checksum and rebuild of those
 * tables from the log; and the audit story of one alias read straight from the topics.
 */
export { MIGRATIONS_DIR } from './migrations';
export { PROJECTED_TOPICS } from './topics';
export { project, genericLinks } from './project';
export { applyProjection } from './apply';
export { AdoptableDeliveries, applyProjections } from './apply-many';
export { copyText } from './copy-rows';
export { planBatch, type BatchPlan, type PlannableRecord } from './batch-plan';
export { MemoryStore, comparePositions, compareTimeline } from './memory-store';
export { STAGES, STAGE_RANK_SQL, stageOf, stageRank, type Stage } from './stage';
export { silenceAlias } from './silence-events';
export { EXPIRED_SILENCE_RETENTION_MS, effectiveEnd, pruneBefore, silenceState, type SilenceState } from './silence-state';
export type {
  ApplyOutcome,
  Change,
  DeliveryRow,
  IncidentChange,
  IncidentRow,
  IncidentUpdate,
  Position,
  Projection,
  SilenceChange,
  SilenceRow,
  TimelineRow,
} from './types';
export {
  applyRecordBatch,
  applyRecordBatches,
  isDataError,
  onlyTimelineRows,
  prepareRecords,
  ProjectionAheadOfLog,
  type BatchResult,
  type BatchTarget,
  type PartitionBatch,
  type Rejected,
} from './batch-apply';
export { readNextOffset, storeNextOffset } from './offset-store';
export { bindCluster, clusterMismatch, currentClusterId, rebindCluster, storedClusterId } from './cluster';
export { checksum, checksumIn, formatChecksum, PROJECTION_TABLES, type Checksum, type TableChecksum } from './rebuild/checksum';
export { compareOffsets, offsetKey, readOffsets, type OffsetComparison, type OffsetDifference } from './rebuild/offsets';
export { rebuildProjection, REBUILD_SCHEMA, type RebuildOptions, type RebuildPhases, type RebuildProgress, type RebuildResult } from './rebuild/rebuild';
export { AUDIT_TOPICS, readAlias, readWindow, resolveTopic } from './audit/read';
export { byPosition, byTimeline, toAuditRecord, type AuditRecord } from './audit/records';
export { buildStory, type Story, type StoryEntry } from './audit/story';
export { compareWithProjection, type Comparison, type Disagreement, type ProjectedEvent } from './audit/compare';
export { formatRecords, formatStory, summarize, textCutsText } from './audit/format';
