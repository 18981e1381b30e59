/**
 * The projection's tables held in memory, with exactly the semantics apply.ts gives them in SQL: the
 * executable specification the pure tests read, and the reference the SQL store is checked against.
 */
import { planBatch, type BatchPlan, type PlannableRecord } from './batch-plan';
import { isCreatedPagerAlert, isRootPost } from './delivery-events';
import { mergeNotification, type NotificationRow } from './notification-events';
import { project } from './project';
import { endedAfterStart, previousEnd, startedAfterPrevious } from './sender-times';
import { effectiveEnd } from './silence-state';
import { stageRank } from './stage';
import type { ApplyOutcome, Change, DeliveryRow, IncidentRow, Position, Projection, SilenceRow, TimelineRow } from './types';

const later = (a: string, b: string): string => (Date.parse(b) > Date.parse(a) ? b : a);

export function comparePositions(a: Position, b: Position): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.partition !== b.partition) return a.partition - b.partition;
  const d = BigInt(a.offset) - BigInt(b.offset);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/**
 * The timeline's reading order: by recordedAt, then by stage (decisions and commands share their input's
 * time), then by where the record was read, then by id: a total order, the same after every rebuild.
 */
export function compareTimeline(a: TimelineRow, b: TimelineRow): number {
  const t = Date.parse(a.recordedAt) - Date.parse(b.recordedAt);
  if (t !== 0) return t;
  const s = stageRank(a.stage) - stageRank(b.stage);
  if (s !== 0) return s;
  return comparePositions(a, b) || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);
}

export class MemoryStore {
  readonly incidents = new Map<string, IncidentRow>();
  readonly timeline = new Map<string, TimelineRow>();
  readonly deliveries = new Map<string, DeliveryRow>();
  readonly silences = new Map<string, SilenceRow>();
  readonly notifications = new Map<string, NotificationRow>();
  /** Storm members that page through the storm's one alert (the table's storm_page_grouped). */
  private readonly stormGrouped = new Map<string, boolean>();
  /** `${consumer}|${topic}|${partition}` → next offset. */
  readonly offsets = new Map<string, string>();

  /** Applies one event's changes, unless an event with its id was applied before. */
  apply(p: Projection): ApplyOutcome {
    if (this.timeline.has(p.eventId)) return 'duplicate';
    this.timeline.set(p.eventId, p.timeline);
    if (p.delivery && !this.deliveries.has(p.delivery.eventId)) this.deliveries.set(p.delivery.eventId, p.delivery);
    for (const change of p.changes) this.change(change);
    return 'applied';
  }

  /** One partition's batch the way the projector handles it: skip what the stored offset covers, apply the rest. */
  applyBatch<R extends PlannableRecord>(consumer: string, topic: string, partition: number, records: readonly R[]): BatchPlan<R> & { outcomes: ApplyOutcome[] } {
    const key = `${consumer}|${topic}|${partition}`;
    const plan = planBatch(records, this.offsets.get(key) ?? null);
    const outcomes: ApplyOutcome[] = [];
    for (const { record, event } of plan.apply) {
      outcomes.push(this.apply(project(event, { topic, partition, offset: record.offset })));
    }
    if (plan.nextOffset !== null) this.offsets.set(key, plan.nextOffset);
    return { ...plan, outcomes };
  }

  incident(id: string): IncidentRow | undefined {
    return this.incidents.get(id);
  }

  /**
   * The incident's own rows plus the inputs its decisions name (received events carry no incident id), in
   * reading order. An input shows under the incident it was decided into, whichever arrived first.
   */
  timelineOf(incidentId: string): TimelineRow[] {
    const own = [...this.timeline.values()].filter((r) => r.incidentId === incidentId);
    const inputs = new Set(own.map((r) => r.inputId).filter((id): id is string => id !== null));
    const linked = [...this.timeline.values()]
      .filter((r) => r.incidentId !== incidentId && inputs.has(r.eventId))
      .map((r) => ({ ...r, incidentId }));
    return [...own, ...linked].sort(compareTimeline);
  }

  /** Every row of an alias (linked or not), in reading order. */
  timelineOfAlias(alias: string): TimelineRow[] {
    return [...this.timeline.values()].filter((r) => r.alias === alias).sort(compareTimeline);
  }

  silence(id: string): SilenceRow | undefined {
    return this.silences.get(id);
  }

  deliveriesOf(incidentId: string): DeliveryRow[] {
    return [...this.deliveries.values()].filter((r) => r.incidentId === incidentId).sort(comparePositions);
  }

  private change(c: Change): void {
    switch (c.kind) {
      case 'open-incident': {
        if (this.incidents.has(c.row.incidentId)) return;
        const row: IncidentRow = { ...c.row };
        const previous = row.previousIncidentId === null ? undefined : this.incidents.get(row.previousIncidentId);
        if (previous) row.startedAt = startedAfterPrevious(row.startedAt, row.openedAt, previousEnd(previous));
        const earlier = this.deliveriesOf(row.incidentId);
        const root = earlier.find(isRootPost);
        if (root) {
          row.slackChannel = root.slackChannel;
          row.slackRootTs = root.slackTs;
          row.updatedAt = later(row.updatedAt, root.recordedAt);
        }
        const alert = earlier.find(isCreatedPagerAlert);
        if (alert) {
          row.pagerAlertId = alert.pagerAlertId;
          row.updatedAt = later(row.updatedAt, alert.recordedAt);
        }
        this.incidents.set(row.incidentId, row);
        return;
      }
      case 'update-incident': {
        const row = this.incidents.get(c.incidentId);
        if (!row) return;
        const next: IncidentRow = { ...row, ...c.set, updatedAt: later(row.updatedAt, c.at) };
        if (c.set.endedAt) next.endedAt = endedAfterStart(c.set.endedAt, row);
        this.incidents.set(c.incidentId, next);
        return;
      }
      case 'link-slack-root': {
        const row = this.incidents.get(c.incidentId);
        if (!row || row.slackRootTs !== null) return;
        this.incidents.set(c.incidentId, {
          ...row,
          slackChannel: c.channel,
          slackRootTs: c.ts,
          updatedAt: later(row.updatedAt, c.at),
        });
        return;
      }
      case 'link-pager-alert': {
        const row = this.incidents.get(c.incidentId);
        if (!row || row.pagerAlertId !== null) return;
        this.incidents.set(c.incidentId, { ...row, pagerAlertId: c.alertId, updatedAt: later(row.updatedAt, c.at) });
        return;
      }
      case 'join-storm': {
        const row = this.incidents.get(c.incidentId);
        if (!row || row.stormIncidentId !== null) return;
        const next: IncidentRow = {
          ...row,
          stormIncidentId: c.stormId,
          slackTargetChannel: row.slackTargetChannel ?? c.channel,
          slackChannel: row.slackChannel ?? c.channel,
          updatedAt: later(row.updatedAt, c.at),
        };
        const earlier = this.deliveriesOf(c.stormId);
        const root = earlier.find(isRootPost);
        if (root) {
          next.slackChannel = root.slackChannel;
          next.stormSlackTs = root.slackTs;
          next.updatedAt = later(next.updatedAt, root.recordedAt);
        }
        const alert = c.grouped ? earlier.find(isCreatedPagerAlert) : undefined;
        if (alert) {
          next.stormPagerAlertId = alert.pagerAlertId;
          next.updatedAt = later(next.updatedAt, alert.recordedAt);
        }
        this.incidents.set(c.incidentId, next);
        this.stormGrouped.set(c.incidentId, c.grouped);
        return;
      }
      case 'link-storm-slack': {
        for (const row of this.incidents.values()) {
          if (row.stormIncidentId !== c.stormId || row.stormSlackTs !== null) continue;
          this.incidents.set(row.incidentId, { ...row, slackChannel: c.channel, stormSlackTs: c.ts, updatedAt: later(row.updatedAt, c.at) });
        }
        return;
      }
      case 'link-storm-pager': {
        for (const row of this.incidents.values()) {
          if (row.stormIncidentId !== c.stormId || row.stormPagerAlertId !== null || this.stormGrouped.get(row.incidentId) !== true) continue;
          this.incidents.set(row.incidentId, { ...row, stormPagerAlertId: c.alertId, updatedAt: later(row.updatedAt, c.at) });
        }
        return;
      }
      case 'create-silence': {
        if (!this.silences.has(c.row.silenceId)) this.silences.set(c.row.silenceId, { ...c.row });
        return;
      }
      case 'expire-silence': {
        const row = this.silences.get(c.silenceId);
        if (!row || row.expiredAt !== null) return;
        this.silences.set(c.silenceId, { ...row, expiredAt: c.at, expiredBy: c.by });
        return;
      }
      case 'prune-silences': {
        const before = Date.parse(c.endedBefore);
        for (const [id, row] of this.silences) if (effectiveEnd(row) < before) this.silences.delete(id);
        return;
      }
      case 'notification':
        this.notifications.set(c.notificationId, mergeNotification(this.notifications.get(c.notificationId), c));
        return;
    }
  }
}
