/** Where the projection disagrees with the topics about one alias: the audit's verdict, computed without I/O. */
import { PROJECTED_TOPICS } from '../topics';
import type { Story, StoryEntry } from './story';

/** One projected event as the API reports it (the fields the comparison needs). */
export interface ProjectedEvent {
  event_id: string;
  incident_id: string | null;
  type: string;
  topic: string;
  partition: number;
  offset: string;
}

export interface Disagreement {
  eventId: string;
  type: string;
  problem: 'missing' | 'extra' | 'moved' | 'other-incident';
  detail: string;
}

export interface Comparison {
  /** Events on the topics the projection has not reached yet (beyond its stored offset): lag, not loss. */
  notYetProjected: StoryEntry[];
  disagreements: Disagreement[];
  agrees: boolean;
  /** Valid events on the topics that the projection holds, in agreement. */
  matched: number;
}

const where = (e: { topic: string; partition: number; offset: string }) => `${e.topic}[${e.partition}]@${e.offset}`;

/**
 * `offsets`: the projection's next offset per `topic\u0000partition`. An event below it that the projection
 * lacks is missing (set aside or lost); one at or beyond it is simply not projected yet.
 */
export function compareWithProjection(story: Story, projected: readonly ProjectedEvent[], offsets: Map<string, string>): Comparison {
  const byId = new Map(projected.map((p) => [p.event_id, p]));
  const onTopics = new Set<string>();
  const out: Comparison = { notYetProjected: [], disagreements: [], agrees: true, matched: 0 };
  for (const e of story.entries) {
    if (!e.first) continue; // a retried write of the same event: the projection keeps the first
    if (!PROJECTED_TOPICS.includes(e.topic)) continue; // the dead letters: in the story, never in the projection
    const id = e.event!.id;
    onTopics.add(id);
    const p = byId.get(id);
    if (!p) {
      const next = offsets.get(`${e.topic}\u0000${e.partition}`);
      if (next === undefined || BigInt(e.offset) >= BigInt(next)) out.notYetProjected.push(e);
      else out.disagreements.push({ eventId: id, type: e.event!.type, problem: 'missing', detail: `${where(e)} is below the projection's offset ${next} but not in it` });
      continue;
    }
    if (p.topic !== e.topic || p.partition !== e.partition || p.offset !== e.offset) {
      out.disagreements.push({ eventId: id, type: e.event!.type, problem: 'moved', detail: `log ${where(e)}, projection ${where(p)}` });
    } else if (p.incident_id !== e.incidentId) {
      out.disagreements.push({ eventId: id, type: e.event!.type, problem: 'other-incident', detail: `log ${e.incidentId ?? 'none'}, projection ${p.incident_id ?? 'none'}` });
    } else {
      out.matched += 1;
    }
  }
  for (const p of projected) {
    if (!onTopics.has(p.event_id)) {
      out.disagreements.push({ eventId: p.event_id, type: p.type, problem: 'extra', detail: `${where(p)} is in the projection but not on the topics` });
    }
  }
  out.agrees = out.disagreements.length === 0;
  return out;
}
