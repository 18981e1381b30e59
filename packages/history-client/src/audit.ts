/** `alertbus audit ALIAS`: the alias's story from the topics, checked against the projection (through the API). */
import type { Kafka } from 'kafkajs';
import { GROUPS } from '@alertbus/schemas';
import { HistoryClient } from './client';
import { buildStory, compareWithProjection, readAlias, type Comparison, type Story } from '@alertbus/projection';

export interface AuditOptions {
  kafka: Kafka;
  alias: string;
  /** The history API to compare with; null: do not compare. */
  historyUrl: string | null;
  /** Consumer whose stored offsets tell lag from loss; default GROUPS.history. */
  consumer?: string;
  scanAll?: boolean;
}

export interface AuditResult {
  story: Story;
  comparison: Comparison | null;
  /** Why there is no comparison, or which API was compared with. */
  projectionNote: string;
}

export async function auditAlias(opts: AuditOptions): Promise<AuditResult> {
  const story = buildStory(opts.alias, await readAlias(opts.kafka, opts.alias, { scanAll: opts.scanAll }));
  if (opts.historyUrl === null) return { story, comparison: null, projectionNote: 'no history API given' };
  const client = new HistoryClient(opts.historyUrl);
  try {
    const [projected, offsets] = await Promise.all([client.aliasTimeline(opts.alias), client.offsets(opts.consumer ?? GROUPS.history)]);
    return { story, comparison: compareWithProjection(story, projected, offsets), projectionNote: opts.historyUrl };
  } catch (err) {
    return { story, comparison: null, projectionNote: (err as Error).message };
  }
}
