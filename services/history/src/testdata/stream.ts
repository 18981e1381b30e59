/**
 * A realistic, deterministic stream of alertbus events, as ingest, the router and the sinks write them:
 * AlertReceived → decision (with inputId, reason, rule) → commands → delivery results, with repeats,
 * acknowledgements, resolutions, a reopened alias, failed deliveries, suppressed inputs and a silence. Alertmanager and
 * Grafana alerts carry their sender's startsAt and endsAt, some minutes before alertbus heard (group_wait, an outage),
 * a few with the sender's clock ahead; generic ones carry none.
 * Ids are derived as the services derive them, so the same call always gives the same events.
 */
import { mulberry32, seedOf } from '@alertbus/spec';
import {
  deriveId,
  makeEnvelope,
  type AnyEnvelope,
  type Envelope,
  type EventData,
  type EventType,
  type RuleRef,
} from '@alertbus/schemas';

export interface StreamOptions {
  /** Number of aliases; each fires once or more. */
  aliases: number;
  /** Distinguishes streams (ids and aliases). */
  seed?: string;
  /** ISO start; every alias starts `spacingMs` (default 7 minutes) after the previous one. */
  start?: string;
  spacingMs?: number;
}

export interface Stream {
  events: AnyEnvelope[];
  /** Every alias with the incident ids it got, in order. */
  aliases: Array<{ alias: string; incidentIds: string[]; title: string; source: string; severity: string; channel: string }>;
}

const SOURCES = ['alertmanager', 'grafana', 'generic'] as const;
const SEVERITIES = ['critical', 'warning', 'info'] as const;
const CHANNELS = ['#alerts', '#db-alerts', '#web-alerts'] as const;
const SERVICES = ['api', 'db', 'web', 'queue', 'auth'] as const;
const TITLES = ['HighErrorRate', 'DiskFillingUp', 'LatencyP99High', 'PodCrashLooping', 'CertificateExpiring'] as const;
/** Who clicks Acknowledge: their Slack user id and the name the click carried (none for carol: an event from before names). */
const PEOPLE: Readonly<Record<string, { id: string; name?: string }>> = {
  alice: { id: 'U0ALICE01', name: 'Alice Martin' },
  bob: { id: 'U0BOB0002', name: 'bob <b>' },
  carol: { id: 'U0CAROL03' },
};
const RULES: RuleRef[] = [
  { path: 'rules[0]', name: 'critical pages', rulesVersion: 'sha256:5e1f0c0ffee0' },
  { path: 'rules[1]', name: 'team channels', rulesVersion: 'sha256:5e1f0c0ffee0' },
  { path: 'default', rulesVersion: 'sha256:5e1f0c0ffee0' },
];

export function buildStream(opts: StreamOptions): Stream {
  const seed = opts.seed ?? 'stream';
  const random = mulberry32(seedOf(seed));
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const startMs = Date.parse(opts.start ?? '2025-03-01T08:00:00.000Z');
  const events: AnyEnvelope[] = [];
  const aliases: Stream['aliases'] = [];

  for (let n = 0; n < opts.aliases; n++) {
    const source = SOURCES[n % SOURCES.length]!;
    const severity = SEVERITIES[Math.floor(n / SOURCES.length) % SEVERITIES.length]!;
    const service = pick(SERVICES);
    const name = pick(TITLES);
    const fingerprint = deriveId(seed, 'fp', n).replace(/-/g, '').slice(0, 16);
    const alias = `${source}:${fingerprint}`;
    const title = `${name} ${service}`;
    const channel = service === 'db' ? '#db-alerts' : service === 'web' ? '#web-alerts' : CHANNELS[0];
    const rule = severity === 'critical' ? RULES[0]! : channel === '#alerts' ? RULES[2]! : RULES[1]!;
    const paged = severity === 'critical';
    const labels = { alertname: name, service, severity, team: service === 'db' ? 'db' : 'sre' };
    const entry = { alias, incidentIds: [] as string[], title, source, severity, channel };
    aliases.push(entry);

    let clock = startMs + n * (opts.spacingMs ?? 7 * 60_000);
    const at = (advanceMs: number) => new Date((clock += advanceMs)).toISOString();
    let k = 0;

    // The sender's times, derived from n (not drawn: the stream's other draws stay as they were). Every seventh alias's
    // sender clock runs 2 minutes ahead, so its endsAt falls after alertbus's resolve.
    const senderTimes = source !== 'generic';
    const leadMs = (n % 7 === 6 ? -2 : (n * 7) % 23) * 60_000 + 30_000;
    const before = (when: string, ms: number) => new Date(Date.parse(when) - ms).toISOString();

    const input = (status: 'firing' | 'resolved', when: string, sender: { startsAt?: string; endsAt?: string } = {}): Envelope<'AlertReceived'> => {
      const e = makeEnvelope({
        id: deriveId(seed, 'input', n, k++),
        type: 'AlertReceived',
        alias,
        occurredAt: when,
        recordedAt: when,
        source: `ingest/${source}`,
        data: {
          source,
          status,
          fingerprint,
          title,
          severity,
          description: `${name} on ${service} for 10m`,
          labels,
          annotations: { summary: `${name} on ${service}` },
          ...sender,
          links: [{ title: 'runbook', url: `https://runbooks.example/${name}` }],
          raw: { status, labels, annotations: { summary: `${name} on ${service}` }, fingerprint, ...sender },
        },
      });
      events.push(e);
      return e;
    };
    /** What the router writes for one input: ids derived from it, its time, its causation. */
    const decide = <T extends EventType>(from: Envelope<'AlertReceived'>, index: number, type: T, data: EventData<T>) => {
      const e = makeEnvelope({
        id: deriveId(from.id, type, index),
        type,
        alias,
        occurredAt: from.occurredAt,
        recordedAt: from.recordedAt,
        source: 'router',
        causationId: from.id,
        correlationId: from.correlationId,
        data,
      }) as AnyEnvelope;
      events.push(e);
      return e;
    };
    /** What a sink writes for a command, a little later. */
    const deliver = <T extends EventType>(command: AnyEnvelope, type: T, data: Omit<EventData<T>, 'commandId' | 'commandType' | 'incidentId'>) => {
      const when = at(400 + Math.floor(random() * 800));
      const e = makeEnvelope({
        id: deriveId(command.id, 'delivery'),
        type,
        alias,
        occurredAt: when,
        recordedAt: when,
        source: type === 'DeliveryFailed' || type.startsWith('Pager') ? 'opsgenie-sink' : 'slack-sink',
        causationId: command.id,
        correlationId: command.correlationId,
        data: { commandId: command.id, commandType: command.type, incidentId: (command.data as { incidentId: string }).incidentId, ...data } as EventData<T>,
      }) as AnyEnvelope;
      events.push(e);
      return e;
    };

    const occurrences = n % 5 === 4 ? 2 : 1;
    let previous: string | undefined;
    for (let occurrence = 1; occurrence <= occurrences; occurrence++) {
      const incidentId = deriveId('incident', alias, occurrence);
      entry.incidentIds.push(incidentId);
      const base = { incidentId, occurrence, title, severity, source, rule, labels };
      const firstAt = at(occurrence === 1 ? 0 : 20 * 60_000);
      const startsAt = senderTimes ? before(firstAt, leadMs + (occurrence - 1) * 60_000) : undefined;
      const first = input('firing', firstAt, startsAt !== undefined ? { startsAt } : {});
      decide(first, 0, previous ? 'IncidentReopened' : 'IncidentOpened', {
        ...base,
        status: 'open',
        count: 1,
        reason: previous ? 'reopened' : 'first-notification',
        inputId: first.id,
        description: `${name} on ${service} for 10m`,
        links: [{ title: 'runbook', url: `https://runbooks.example/${name}` }],
        openedAt: first.recordedAt,
        slack: { channel },
        ...(paged ? { pager: { priority: 'P1' as const } } : {}),
        ...(previous ? { previousIncidentId: previous } : {}),
        ...(startsAt !== undefined ? { startsAt } : {}),
      });
      const root = decide(first, 1, 'PostSlackMessage', { incidentId, rule, channel, purpose: 'root', text: `:fire: ${title}` });
      const ts = `17408${String(n).padStart(5, '0')}.${String(occurrence).padStart(6, '0')}`;
      deliver(root, 'SlackMessagePosted', { dryRun: false, attempts: 1, channel: `C0${channel.slice(1).toUpperCase().replace(/-/g, '')}`, ts, purpose: 'root' });
      if (paged) {
        const page = decide(first, 2, 'CreatePagerAlert', {
          incidentId,
          rule,
          message: title,
          priority: 'P1',
          tags: ['alertbus'],
          responders: [{ type: 'team', name: 'sre' }],
          details: { alias },
          source: `alertbus/${source}`,
        });
        deliver(page, 'PagerAlertCreated', { dryRun: false, attempts: 1, provider: 'opsgenie', requestId: `req-${n}-${occurrence}`, alertId: `og-${n}-${occurrence}` });
      }
      const repeats = Math.floor(random() * 3);
      for (let r = 0; r < repeats; r++) {
        const again = input('firing', at(60_000 + Math.floor(random() * 120_000)));
        decide(again, 0, 'IncidentRepeated', { ...base, status: 'open', count: r + 2, reason: 'duplicate', inputId: again.id, notified: false });
      }
      if (random() < 0.6) {
        // An acknowledgement (its input would be a Slack button click, recorded by the Slack work).
        const clickAt = at(30_000 + Math.floor(random() * 600_000));
        const click = { id: deriveId(seed, 'click', n, occurrence), occurredAt: clickAt, recordedAt: clickAt, correlationId: deriveId(seed, 'click', n, occurrence) } as Envelope<'AlertReceived'>;
        const person = PEOPLE[pick(['alice', 'bob', 'carol'])]!;
        const by = { by: person.id, ...(person.name !== undefined ? { byName: person.name } : {}) };
        decide(click, 0, 'IncidentAcknowledged', { ...base, status: 'acknowledged', count: repeats + 1, reason: 'acknowledged', inputId: click.id, acknowledgedAt: clickAt, ...by });
        if (paged) {
          const ack = decide(click, 1, 'AcknowledgePagerAlert', { incidentId, rule, user: person.name ?? person.id });
          deliver(ack, 'PagerAlertAcknowledged', { dryRun: false, attempts: 1, provider: 'opsgenie', requestId: `req-ack-${n}` });
        }
      }
      const resolve = occurrence < occurrences || random() < 0.75;
      if (resolve) {
        const doneAt = at(120_000 + Math.floor(random() * 1_800_000));
        const endsAt = senderTimes ? before(doneAt, leadMs) : undefined;
        const done = input('resolved', doneAt, endsAt !== undefined ? { startsAt: startsAt!, endsAt } : {});
        decide(done, 0, 'IncidentResolved', {
          ...base,
          status: 'resolved',
          count: repeats + 1,
          reason: 'resolved',
          inputId: done.id,
          resolvedAt: done.recordedAt,
          ...(endsAt !== undefined ? { endsAt } : {}),
        });
        const reply = decide(done, 1, 'PostSlackMessage', { incidentId, rule, channel, purpose: 'reply', text: 'resolved' });
        deliver(reply, 'SlackMessagePosted', { dryRun: false, attempts: 1, channel: `C0${channel.slice(1).toUpperCase().replace(/-/g, '')}`, ts: `${ts}1`, threadTs: ts, purpose: 'reply' });
        const update = decide(done, 2, 'UpdateSlackMessage', { incidentId, rule, text: `:white_check_mark: ${title}` });
        deliver(update, 'SlackMessageUpdated', { dryRun: false, attempts: 1, channel: `C0${channel.slice(1).toUpperCase().replace(/-/g, '')}`, ts });
        if (paged) {
          const close = decide(done, 3, 'ClosePagerAlert', { incidentId, rule, note: 'Resolved at the source.' });
          if (n % 4 === 0) {
            deliver(close, 'DeliveryFailed', { target: 'pager', error: 'Opsgenie answered 503: try later', httpStatus: 503, permanent: false, attempts: 5 });
          } else {
            deliver(close, 'PagerAlertClosed', { dryRun: false, attempts: 1, provider: 'opsgenie', requestId: `req-close-${n}` });
          }
        }
        previous = incidentId;
      }
    }
    // A late resolved notification for an alias already resolved: suppressed, tied to the last incident.
    if (n % 6 === 5 && previous) {
      const late = input('resolved', at(60_000));
      decide(late, 0, 'EventSuppressed', { inputId: late.id, inputType: 'AlertReceived', reason: 'already-resolved', rule, incidentId: previous, title });
    }
  }

  // A maintenance window, and an input it silenced before any incident of its alias existed.
  const silenceAt = new Date(startMs + 2 * 60_000).toISOString();
  const silenceId = deriveId(seed, 'silence');
  events.push(
    makeEnvelope({
      id: deriveId('silence', silenceId, 'created'),
      type: 'SilenceCreated',
      alias: `silence:${silenceId}`,
      occurredAt: silenceAt,
      recordedAt: silenceAt,
      source: 'history-api',
      data: {
        silenceId,
        matchers: ['team="db"', 'alertname="BackupLate"'],
        startsAt: silenceAt,
        endsAt: new Date(startMs + 4 * 3_600_000).toISOString(),
        createdBy: 'alice',
        comment: 'backup migration',
        kind: 'maintenance',
      },
    }),
  );
  const mutedAt = new Date(startMs + 3 * 60_000).toISOString();
  const muted = makeEnvelope({
    id: deriveId(seed, 'muted'),
    type: 'AlertReceived',
    alias: `alertmanager:${deriveId(seed, 'muted-fp').replace(/-/g, '').slice(0, 16)}`,
    occurredAt: mutedAt,
    recordedAt: mutedAt,
    source: 'ingest/alertmanager',
    data: {
      source: 'alertmanager',
      status: 'firing',
      title: 'BackupLate db',
      severity: 'warning',
      labels: { alertname: 'BackupLate', team: 'db' },
      annotations: {},
      links: [],
      raw: {},
    },
  });
  events.push(muted);
  events.push(
    makeEnvelope({
      id: deriveId(muted.id, 'EventSuppressed', 0),
      type: 'EventSuppressed',
      alias: muted.alias,
      occurredAt: mutedAt,
      recordedAt: mutedAt,
      source: 'router',
      causationId: muted.id,
      correlationId: muted.id,
      data: { inputId: muted.id, inputType: 'AlertReceived', reason: 'silenced', rule: RULES[1]!, title: 'BackupLate db' },
    }),
  );
  // Written in time order, as the services write them (a stable sort keeps each input before its decisions).
  const ordered = events.map((e, i) => ({ e, i })).sort((a, b) => Date.parse(a.e.recordedAt) - Date.parse(b.e.recordedAt) || a.i - b.i);
  return { events: ordered.map(({ e }) => e), aliases };
}
