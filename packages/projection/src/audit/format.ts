/** Text renderings of records and stories for the terminal; `--json` prints the values themselves instead. */
import { groupedThousands, type AnyEnvelope } from '@alertbus/schemas';
import type { Comparison } from './compare';
import type { AuditRecord } from './records';
import type { Story, StoryEntry } from './story';

/** The pagers by name, as the router's thread notes call them. */
const PAGERS: Readonly<Record<string, string>> = { opsgenie: 'Opsgenie', jsm: 'Jira Service Management' };

const short = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** What the event says, in a few words: who, what, why. */
export function summarize(e: AnyEnvelope): string {
  return describeEvent(e).trim();
}

function describeEvent(e: AnyEnvelope): string {
  const d = e.data as Record<string, any>;
  const rule = d.rule && typeof d.rule === 'object' ? ` — rule ${d.rule.name ? `"${d.rule.name}" ` : ''}(${d.rule.path}, ${String(d.rule.rulesVersion).slice(0, 15)})` : '';
  const why = d.reason ? ` [${d.reason}]${rule}` : rule;
  switch (e.type) {
    case 'AlertReceived': {
      const cut = textCutsText(d.cut);
      return `${d.source} ${d.status} "${short(String(d.title), 60)}" severity ${d.severity}${cut ? ` — ${cut}` : ''}`;
    }
    case 'IncidentOpened':
    case 'IncidentReopened':
      return `incident #${d.occurrence} ${d.incidentId}${why}`;
    case 'IncidentRepeated':
      return `count ${d.count}${d.notified ? ', re-notified' : ''}${d.pager?.raisedFrom ? `, page raised ${d.pager.raisedFrom} → ${d.pager.priority}` : d.pager ? `, paged ${d.pager.priority}` : ''}${why}`;
    case 'IncidentAcknowledged':
    case 'IncidentResolved':
      // The name people know them by beside the id, once when the two are the same (a pager user).
      return `${d.by ? `by ${d.byName && d.byName !== d.by ? `${d.byName} (${d.by})` : d.by}` : ''}${why}`;
    case 'IncidentUnacknowledged':
      return `in ${PAGERS[d.provider] ?? d.provider} by ${d.by ?? 'someone'}${why}`;
    case 'EventSuppressed':
      return `${d.inputType} ${d.inputId}${why}${suppressedByText(d.suppressedBy)}`;
    case 'PostSlackMessage':
      return `${d.purpose} to ${d.channel}${rule}`;
    case 'CreatePagerAlert':
      return `${d.priority} "${short(String(d.message), 50)}"${rule}`;
    case 'UpdatePagerPriority':
      return `${d.from ? `${d.from} → ` : ''}${d.priority}${rule}`;
    case 'SlackMessagePosted':
    case 'SlackMessageUpdated':
      return `${d.channel} ts ${d.ts}${d.dryRun ? ' (dry run)' : ''}`;
    case 'PagerAlertCreated':
    case 'PagerAlertClosed':
    case 'PagerAlertAcknowledged':
    case 'PagerNoteAdded':
      return `${d.provider}${d.alertId ? ` alert ${d.alertId}` : ''}${d.dryRun ? ' (dry run)' : ''}`;
    case 'PagerPriorityUpdated':
      return `${d.provider}${d.alertId ? ` alert ${d.alertId}` : ''} ${d.changed ? `now ${d.priority}` : `left as it was (asked ${d.priority})`}${d.dryRun ? ' (dry run)' : ''}`;
    case 'DeliveryFailed':
      return `${d.commandType} failed: ${short(String(d.error), 80)}${d.httpStatus ? ` (HTTP ${d.httpStatus})` : ''}`;
    case 'SlackMessageReceived':
      return `${d.kind} from ${d.user ?? d.botId ?? '?'} in ${d.channel}: "${short(String(d.text), 60)}"`;
    case 'SlackActionReceived':
      return `${d.actionId} by ${d.user?.name ?? d.user?.id}`;
    case 'PagerActionReceived':
      return `${d.provider} ${d.action} by ${d.user ?? 'someone'} on alert ${d.alertId}${d.pagerAlias !== e.alias ? ` (alias ${d.pagerAlias})` : ''}${d.authenticatedAs ? `, sent with token ${d.authenticatedAs}` : ''}`;
    case 'PagerActionForwarded':
      return `${d.provider} ${d.action} by ${d.user ?? 'someone'} on alert ${d.alertId} (alias ${d.pagerAlias}), forwarded from ${d.receivedId} to incident ${d.incidentId}`;
    case 'PagerAliasLinked':
      return `pager alias ${d.pagerAlias} leads to incident ${d.incidentId} (alias ${d.alias})`;
    case 'PagerAliasResolved':
      return `incident ${d.incidentId} (alias ${d.alias}) on pager alias ${d.pagerAlias} resolved at the source`;
    case 'ReplyWithOnCall':
      return `on-call of ${d.schedule}${rule}`;
    case 'OnCallReplyPosted':
      return `${d.outcome}${d.emails?.length ? `: ${d.emails.join(', ')}` : ''}${d.dryRun ? ' (dry run)' : ''}`;
    case 'SilenceCreated':
      return `${d.kind} ${d.silenceId} ${d.matchers.join(',')} ${d.startsAt} → ${d.endsAt} by ${d.createdBy}`;
    case 'SilenceExpired':
      return `${d.silenceId} by ${d.expiredBy}`;
    case 'SilenceEndedTick':
      return `silence ${d.silenceId} ended: the firing kept under it decided again`;
    case 'InhibitionEndedTick':
      return `${d.inhibitedBy} no longer inhibits it: the firing kept while inhibited decided again`;
    case 'StormSummaryTick':
      return `storm in ${d.channel} since ${d.since} quiet: its summary brought up to date`;
    default:
      return why.trim();
  }
}

/** How many of an alert's cuts are named; the rest are counted. */
const CUTS_NAMED = 6;

/**
 * What ingest cut of an alert's text (AlertReceived.cut), in words: "cut by ingest: description 5,000 characters, …",
 * or '' when nothing was. Each text then ends with "…[cut: N characters]" in the event; the field names are the sender's
 * label and annotation names, so each is quoted short.
 */
export function textCutsText(cut: unknown): string {
  if (!Array.isArray(cut) || cut.length === 0) return '';
  // The description is taken from an annotation, so the two are cut alike: one loss, named once.
  const description = cut.find((c: Record<string, unknown>) => c?.field === 'description');
  const sameLoss = (c: Record<string, unknown>) =>
    description !== undefined && c !== description && String(c?.field).startsWith('annotations.') && c?.characters === description.characters;
  const cuts = cut.filter((c: Record<string, unknown>) => !sameLoss(c));
  const named = cuts.slice(0, CUTS_NAMED).map((c: Record<string, unknown>) => {
    const field = short(String(c?.field), 40);
    if (typeof c?.omittedBytes === 'number') return `${field} left out (${groupedThousands(c.omittedBytes)} bytes)`;
    return typeof c?.characters === 'number' ? `${field} ${groupedThousands(c.characters)} characters` : field;
  });
  const more = cuts.length > CUTS_NAMED ? `, and ${cuts.length - CUTS_NAMED} more` : '';
  return `cut by ingest: ${named.join(', ')}${more}`;
}

/**
 * What suppressed an input, in words: "why was this muted?". An inhibitor without an incident is a firing that a silence
 * or a drop rule suppressed, which inhibits all the same; the sender's title is quoted and cut short.
 */
export function suppressedByText(by: Record<string, any> | undefined): string {
  if (!by || typeof by !== 'object') return '';
  switch (by.kind) {
    case 'silence':
      return ` — silenced by ${by.silenceKind === 'maintenance' ? 'maintenance window' : 'silence'} ${by.silenceId}${by.createdBy ? ` (${by.createdBy})` : ''}`;
    case 'inhibition': {
      const src = by.source as Record<string, any> | undefined;
      const inhibitor = src ? `${JSON.stringify(short(String(src.title), 60))} (alias ${by.alias})` : `incident ${by.incidentId} (alias ${by.alias})`;
      const itself = !src ? '' : src.reason === 'silenced' ? `, itself silenced by silence ${src.silenceId ?? '?'}` : `, itself dropped by rule ${src.dropRule ?? '?'}`;
      return ` — inhibited by ${inhibitor}${itself}, inhibit rule ${by.inhibitRule}`;
    }
    case 'storm': {
      // The summary's alias (routing's stormSummaryKey), which /api/timeline?alias= shows; its incident id is no incident's.
      const page = by.pageGrouped === true ? ", paged by the storm's page" : '';
      return ` — gathered into the storm summary in ${by.channel} (alias storm:${by.channel}:${by.since}; storm since ${by.since}, more than ${by.threshold} in ${by.window})${page}`;
    }
    default:
      return '';
  }
}

const position = (r: AuditRecord) => `${r.topic}[${r.partition}]@${r.offset}`;

export function formatRecords(records: readonly AuditRecord[]): string {
  if (records.length === 0) return '(no records in the window)';
  const rows = records.map((r) => [
    r.timestamp,
    String(r.partition),
    r.offset,
    r.key ?? '(null)',
    r.event ? r.event.type : 'INVALID',
    r.event ? `${r.event.id} ${summarize(r.event)}` : String(r.error),
  ]);
  const head = ['timestamp', 'partition', 'offset', 'key', 'type', 'id / detail'];
  const widths = head.slice(0, 5).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 5 ? c.padEnd(widths[i]!) : c)).join('  ');
  const invalid = records.filter((r) => !r.event).length;
  return [
    line(head),
    ...rows.map(line),
    '',
    `${records.length} records, ${records.length - invalid} valid, ${invalid} failing their schema`,
  ].join('\n');
}

function entryLine(e: StoryEntry): string {
  const ev = e.event!;
  return `  ${ev.recordedAt}  ${ev.type.padEnd(22)} ${position(e).padEnd(34)} ${summarize(ev)}${e.first ? '' : '  (same event written again)'}`;
}

export function formatStory(story: Story, comparison: Comparison | null, projectionNote: string): string {
  const out: string[] = [];
  const topics = new Set(story.entries.map((e) => e.topic));
  out.push(`${story.alias}: ${story.incidents.length} incident(s), ${story.entries.length} events on ${topics.size} topic(s), read from Kafka`);
  for (const { incidentId, entries } of story.incidents) {
    out.push('', `incident ${incidentId}`);
    out.push(...entries.map(entryLine));
  }
  if (story.unlinked.length > 0) {
    out.push('', 'not tied to an incident');
    out.push(...story.unlinked.map(entryLine));
  }
  if (story.invalid.length > 0) {
    out.push('', 'records that fail their schema (consumers dead-letter them)');
    out.push(...story.invalid.map((r) => `  ${r.timestamp}  ${position(r)}  ${r.error}`));
  }
  if (story.deadLetters.length > 0) {
    out.push('', 'dead letters of this alias');
    out.push(
      ...story.deadLetters.map(
        ({ letter }) =>
          `  ${letter.consumer} gave up on ${letter.origin.topic}[${letter.origin.partition}]@${letter.origin.offset}: ${letter.attempts.at(-1)?.error}`,
      ),
    );
  }
  out.push('');
  if (!comparison) {
    out.push(`projection: not compared (${projectionNote})`);
  } else if (comparison.agrees) {
    out.push(
      `projection (${projectionNote}): agrees — ${comparison.matched} events at the same positions and incidents` +
        (comparison.notYetProjected.length ? `; ${comparison.notYetProjected.length} not projected yet (lag)` : ''),
    );
  } else {
    out.push(`projection (${projectionNote}): DISAGREES with the topics`);
    out.push(...comparison.disagreements.map((d) => `  ${d.problem.padEnd(14)} ${d.type.padEnd(22)} ${d.eventId}  ${d.detail}`));
    if (comparison.notYetProjected.length) out.push(`  (${comparison.notYetProjected.length} more not projected yet: lag)`);
  }
  return out.join('\n');
}
