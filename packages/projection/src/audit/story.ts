/**
 * An alias's story told from the topics alone: which incident each record belongs to (inputs through the
 * decisions that name them), in timeline order, with the records that fail their schema kept apart.
 */
import { TOPICS, type DeadLetter } from '@alertbus/schemas';
import { genericLinks } from '../project';
import { byPosition, byTimeline, type AuditRecord } from './records';

export interface StoryEntry extends AuditRecord {
  incidentId: string | null;
  /** False when an earlier record carried the same event id (a producer retry): the projection keeps one. */
  first: boolean;
}

export interface Story {
  alias: string;
  /** Every valid record, in timeline order. */
  entries: StoryEntry[];
  incidents: Array<{ incidentId: string; entries: StoryEntry[] }>;
  /** Valid records tied to no incident (e.g. an input that was suppressed before any incident existed). */
  unlinked: StoryEntry[];
  /** Records that fail their schema: listed, never skipped silently. */
  invalid: AuditRecord[];
  /** Records of this alias some consumer gave up on (deadletter.v1), with its reason. */
  deadLetters: Array<{ record: AuditRecord; letter: DeadLetter }>;
}

export function buildStory(alias: string, all: readonly AuditRecord[]): Story {
  const records = all.filter((r) => r.topic !== TOPICS.deadLetter);
  const deadLetters = all
    .filter((r) => r.topic === TOPICS.deadLetter && r.event?.type === 'DeadLettered')
    .sort(byPosition)
    .map((record) => ({ record, letter: record.event!.data as DeadLetter }));
  const valid = records.filter((r) => r.event !== null).sort(byPosition);
  const seen = new Set<string>();
  const withIds = valid.map((r) => {
    const first = !seen.has(r.event!.id);
    seen.add(r.event!.id);
    return { record: r, first, links: genericLinks(r.event!.data) };
  });
  // An input belongs to the incident its decisions name; the smallest id if (unusually) there are several.
  const inputIncident = new Map<string, string>();
  for (const { links } of withIds) {
    if (!links.inputId || !links.incidentId) continue;
    const known = inputIncident.get(links.inputId);
    if (known === undefined || links.incidentId < known) inputIncident.set(links.inputId, links.incidentId);
  }
  const entries: StoryEntry[] = withIds
    .map(({ record, first, links }) => ({
      ...record,
      first,
      incidentId: links.incidentId ?? inputIncident.get(record.event!.id) ?? null,
    }))
    .sort(byTimeline);
  const incidents = new Map<string, StoryEntry[]>();
  for (const e of entries) {
    if (e.incidentId === null) continue;
    const list = incidents.get(e.incidentId) ?? [];
    list.push(e);
    incidents.set(e.incidentId, list);
  }
  return {
    alias,
    entries,
    incidents: [...incidents].map(([incidentId, list]) => ({ incidentId, entries: list })),
    unlinked: entries.filter((e) => e.incidentId === null),
    invalid: records.filter((r) => r.event === null).sort(byPosition),
    deadLetters,
  };
}
