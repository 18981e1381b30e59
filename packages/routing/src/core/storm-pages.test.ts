/**
 * Pages in a storm (testdata/rules.storm-pages.yaml): the incidents a storm gathers page once, through one pager
 * alert for the storm, keyed like its summary; unless their rule (`pager.storm: each`) or their channel
 * (`storm_control.channels.X.pages: each`) asks for a page each.
 */
import { deriveId, makeEnvelope, validateEnvelope, type AliasState, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import { specFor } from '@alertbus/spec';
import { decide, evolve, isIncidentEvent, type AlertDecision, type RouterInput } from '../decider';
import { firing, MINUTE, resolved, T0 } from '../test-support/alerts';
import { pagerAction } from '../test-support/pager';
import { compileRules } from '../rules/compile';
import { rulesFrom } from '../test-support/scenario';
import type { CompiledRules } from '../rules/types';
import { StateIndex } from './neighbours';
import { Replayer } from './replay';

const rules = rulesFrom('rules.storm-pages.yaml');
const iso = (at: number) => new Date(T0 + at).toISOString();
const init = (name: string, at: number, team: string) => ({ at, labels: { team }, title: `${name} is down`, severity: 'warning' });
const open = (name: string, at: number, team = 'web') => firing(`am:${name}`, init(name, at, team));
const close = (name: string, at: number, team = 'web') => resolved(`am:${name}`, init(name, at, team));

/** Every alias's state: the world a decision sees (its own alias's state and its neighbours'). */
type World = ReadonlyMap<string, AliasState>;
/** An expected output: its type, the alias it is keyed by, and fields its data must have. */
type Expected = [type: AnyEnvelope['type'], alias: string, data?: Record<string, unknown>];

/** given(events of any aliases) when(alert) then(outputs): the world is the fold of the given events. */
const spec = (r: CompiledRules) =>
  specFor<Envelope<'AlertReceived'>, World, AnyEnvelope, AlertDecision, Expected[]>(
    {
      decide: (input, world) => {
        const index = new StateIndex();
        for (const s of world.values()) index.set(s);
        return decide(input, world.get(input.alias), r, { neighbours: index });
      },
      evolve: (world, e) => {
        if (!isIncidentEvent(e)) return world;
        const next = new Map(world);
        const s = evolve(world.get(e.alias), e);
        if (s) next.set(e.alias, s);
        return next;
      },
      initialState: () => new Map(),
    },
    {
      check: (decision, expected) => {
        expect(decision.events.map((e) => [e.type, e.alias])).toEqual(expected.map(([t, a]) => [t, a]));
        expected.forEach(([, , data], i) => {
          if (data) expect(decision.events[i]!.data).toMatchObject(data);
        });
      },
      always: (decision) => {
        for (const e of decision.events) {
          const v = validateEnvelope(e);
          if (!v.ok) throw new Error(`${e.type} is not valid: ${v.error}`);
        }
      },
    },
  );

/** What happened before: the inputs decided in order, as the router decided them. */
function history(inputs: Envelope<'AlertReceived'>[], r: CompiledRules = rules): AnyEnvelope[] {
  const replayer = new Replayer(r);
  return inputs.flatMap((i) => replayer.decide(i).events);
}

/** `/alertbus ack|resolve <alias>` typed by U0ALICE, keyed by the alias as ingest keys it. */
const slash = (name: 'ack' | 'resolve', alias: string, at: number): Envelope<'SlackSlashCommandReceived'> =>
  makeEnvelope({
    id: deriveId('test-slash', name, alias, at),
    type: 'SlackSlashCommandReceived',
    alias,
    occurredAt: iso(at),
    recordedAt: iso(at),
    source: 'ingest/slack',
    data: { team: 'T0TEAM', channel: 'C0OPS', user: 'U0ALICE', command: '/alertbus', text: `${name} ${alias}`, responseUrl: 'https://hooks.slack.com/commands/T0/1/x', raw: {} },
  } as never);

/** Three incidents within three minutes: the next one in the same channel is gathered. */
const calm = [open('a1', 0), open('a2', MINUTE), open('a3', 2 * MINUTE)];
const since = iso(3 * MINUTE);
const storm = { alias: `storm:#alerts:${since}`, id: deriveId('storm', '#alerts', since) };

describe('a storm pages once: one pager alert for the storm, keyed like its summary', () => {
  test('the first incident a storm gathers creates the storm\'s page instead of its own', () => {
    const d = spec(rules)
      .given(...history(calm))
      .when(open('a4', 3 * MINUTE))
      .then([
        ['IncidentOpened', 'am:a4', { reason: 'first-notification' }],
        ['EventSuppressed', 'am:a4', { reason: 'storm-control', suppressedBy: { kind: 'storm', summaryIncidentId: storm.id, since, pageGrouped: true } }],
        ['PostSlackMessage', storm.alias, { incidentId: storm.id, purpose: 'root' }],
        [
          'CreatePagerAlert',
          storm.alias,
          {
            incidentId: storm.id,
            priority: 'P3',
            message: 'Alert storm in #alerts: a4 is down and more',
            tags: ['web', 'alert-storm'],
            details: expect.objectContaining({ alertbus_storm: storm.id, alertbus_storm_channel: '#alerts', alertbus_alias: 'am:a4' }),
          },
        ],
      ]);
    // Not paged on its own: nothing to close for it later but the storm's page.
    expect(d.events[0]!.data).not.toHaveProperty('pager');
    expect(d.state).toMatchObject({ paged: false, storm: { id: storm.id, pageGrouped: true } });
  });

  test('the second gathered incident adds a note with the counts; the third adds nothing; the fourth a note again', () => {
    spec(rules)
      .given(...history([...calm, open('a4', 3 * MINUTE)]))
      .when(open('a5', 4 * MINUTE))
      .then([
        ['IncidentOpened', 'am:a5'],
        ['EventSuppressed', 'am:a5', { reason: 'storm-control' }],
        ['UpdateSlackMessage', storm.alias],
        ['AddPagerNote', storm.alias, { incidentId: storm.id, note: 'The storm in #alerts has gathered 2 incidents so far, 2 open. Latest: a5 is down' }],
      ]);
    spec(rules)
      .given(...history([...calm, open('a4', 3 * MINUTE), open('a5', 4 * MINUTE)]))
      .when(open('a6', 5 * MINUTE))
      .then([
        ['IncidentOpened', 'am:a6'],
        ['EventSuppressed', 'am:a6'],
        ['UpdateSlackMessage', storm.alias],
      ]);
    spec(rules)
      .given(...history([...calm, open('a4', 3 * MINUTE), open('a5', 4 * MINUTE), open('a6', 5 * MINUTE)]))
      .when(open('a7', 6 * MINUTE))
      .then([
        ['IncidentOpened', 'am:a7'],
        ['EventSuppressed', 'am:a7'],
        ['UpdateSlackMessage', storm.alias],
        ['AddPagerNote', storm.alias, { note: 'The storm in #alerts has gathered 4 incidents so far, 4 open. Latest: a7 is down' }],
      ]);
  });

  test('a gathered incident resolving while others are open closes nothing; the last one closes the storm\'s page', () => {
    const stormed = [...calm, open('a4', 3 * MINUTE), open('a5', 4 * MINUTE)];
    spec(rules)
      .given(...history(stormed))
      .when(close('a4', 7 * MINUTE))
      .then([
        ['IncidentResolved', 'am:a4', { reason: 'resolved' }],
        ['UpdateSlackMessage', storm.alias],
      ]);
    spec(rules)
      .given(...history([...stormed, close('a4', 7 * MINUTE)]))
      .when(close('a5', 8 * MINUTE))
      .then([
        ['IncidentResolved', 'am:a5'],
        ['UpdateSlackMessage', storm.alias],
        ['ClosePagerAlert', storm.alias, { incidentId: storm.id, note: 'All 2 incidents of the storm are resolved.' }],
      ]);
  });

  test('a gathered incident resolved by a person (`/alertbus resolve <alias>`: it has no buttons) updates the summary, and the last one closes the storm\'s page', () => {
    const r = new Replayer(rules);
    for (const i of [...calm, open('a4', 3 * MINUTE), open('a5', 4 * MINUTE), close('a4', 7 * MINUTE)]) r.decide(i);
    const d = r.decide(slash('resolve', 'am:a5', 8 * MINUTE));
    for (const e of d.events) expect(validateEnvelope(e)).toEqual({ ok: true, event: e });
    expect(d.events.map((e) => [e.type, e.alias])).toEqual(
      expect.arrayContaining([
        ['IncidentResolved', 'am:a5'],
        ['UpdateSlackMessage', storm.alias],
        ['ClosePagerAlert', storm.alias],
      ]),
    );
    // The alert's own resolve afterwards finds it resolved: nothing is left open to close.
    expect(r.decide(close('a5', 9 * MINUTE)).events.map((e) => e.type)).toEqual(['EventSuppressed']);
  });

  test('an UnAcknowledge of the storm\'s page in the pager is the page\'s only, as its Acknowledge is: no member changes', () => {
    const r = new Replayer(rules);
    for (const i of [...calm, open('a4', 3 * MINUTE), open('a5', 4 * MINUTE)]) r.decide(i);
    r.decide(slash('ack', 'am:a5', 8 * MINUTE));
    const d = r.decide(pagerAction('UnAcknowledge', storm.alias, { at: 9 * MINUTE }));
    expect(d.events.map((e) => [e.type, (e.data as { reason?: string }).reason])).toEqual([['EventSuppressed', 'no-incident']]);
  });

  test('a Close of the storm\'s page in the pager resolves the incidents paging through it, and the storm\'s next incident pages again', () => {
    const r = new Replayer(rules);
    for (const i of [...calm, open('a4', 3 * MINUTE), open('a5', 4 * MINUTE)]) r.decide(i);
    const closed = r.decide(pagerAction('Close', storm.alias, { at: 6 * MINUTE, user: 'jane' }));
    // Before: EventSuppressed no-incident, and the storm's later incidents only added notes to the closed alert.
    expect(closed.events.map((e) => [e.type, e.alias, (e.data as { incidentId?: string }).incidentId])).toEqual([
      ['PagerActionForwarded', 'am:a4', r.state('am:a4')!.incidentId],
      ['PagerActionForwarded', 'am:a5', r.state('am:a5')!.incidentId],
    ]);
    const forwarded = closed.events.flatMap((e) => r.decide(e as RouterInput).events);
    for (const e of forwarded) expect(validateEnvelope(e)).toEqual({ ok: true, event: e });
    expect(forwarded.filter((e) => e.type === 'IncidentResolved').map((e) => [e.alias, (e.data as { by?: string; provider?: string }).by])).toEqual([
      ['am:a4', 'jane'],
      ['am:a5', 'jane'],
    ]);
    expect(r.state('am:a5')?.status).toBe('resolved');
    // The storm goes on: its next incident creates the storm's page again (the same alias: a new alert in the pager).
    const next = r.decide(open('a6', 7 * MINUTE));
    expect(next.events.filter((e) => e.type === 'CreatePagerAlert').map((e) => e.alias)).toEqual([storm.alias]);
    // alertbus's own Close of the storm's page (its last incident resolved) comes back from the pager: nothing more.
    const own = r.decide(pagerAction('Close', storm.alias, { at: 9 * MINUTE, by: 'alertbus' }));
    expect(own.events.map((e) => [e.type, (e.data as { reason?: string }).reason])).toEqual([['EventSuppressed', 'own-action']]);
  });

  test('a gathered incident acknowledged by a person (`/alertbus ack <alias>`) shows so in the summary, and the storm\'s page gets a note, not an ack', () => {
    const r = new Replayer(rules);
    for (const i of [...calm, open('a4', 3 * MINUTE), open('a5', 4 * MINUTE)]) r.decide(i);
    const d = r.decide(slash('ack', 'am:a5', 8 * MINUTE));
    for (const e of d.events) expect(validateEnvelope(e)).toEqual({ ok: true, event: e });
    expect(d.events.map((e) => [e.type, e.alias])).toEqual([
      ['IncidentAcknowledged', 'am:a5'],
      ['UpdateSlackMessage', storm.alias],
      ['AddPagerNote', storm.alias],
      ['AnswerSlashCommand', 'am:a5'],
    ]);
    // The summary lists it acknowledged (👀), the other one still open (🔥).
    const summary = JSON.stringify(d.events[1]!.data);
    expect(summary).toContain('👀 a5 is down');
    expect(summary).toContain('🔥 a4 is down');
    expect(d.events[2]!.data).toMatchObject({
      incidentId: storm.id,
      note: 'Acknowledged in Slack by U0ALICE: a5 is down (am:a5). This alert stays open until every incident of the storm is resolved.',
    });
    expect(d.events[3]!.data).toMatchObject({
      answer: {
        kind: 'text',
        text: "Acknowledged: a5 is down (`am:a5`). It pages through its storm's alert, which got a note saying so and stays open until every incident of the storm is resolved.",
      },
    });
  });

  test('the incidents outside the storm keep their own pages: resolving one closes its own alert, not the storm\'s', () => {
    spec(rules)
      .given(...history([...calm, open('a4', 3 * MINUTE)]))
      .when(close('a1', 5 * MINUTE))
      .then([
        ['IncidentResolved', 'am:a1'],
        ['PostSlackMessage', 'am:a1', { purpose: 'reply' }],
        ['UpdateSlackMessage', 'am:a1'],
        ['ClosePagerAlert', 'am:a1'],
      ]);
  });

  test('after every gathered incident was resolved, a new one joining the same storm pages again (a new alert, same alias)', () => {
    spec(rules)
      .given(...history([...calm, open('a4', 3 * MINUTE), close('a4', 4 * MINUTE)]))
      .when(open('a5', 5 * MINUTE))
      .then([
        ['IncidentOpened', 'am:a5'],
        ['EventSuppressed', 'am:a5', { suppressedBy: { since, pageGrouped: true } }],
        ['UpdateSlackMessage', storm.alias],
        ['CreatePagerAlert', storm.alias, { incidentId: storm.id }],
      ]);
  });
});

describe('opting out: a page each, as outside a storm', () => {
  test('a rule with pager.storm: each: gathered into the summary, but paged on its own, with its own priority', () => {
    const d = spec(rules)
      .given(...history(calm))
      .when(open('pay1', 3 * MINUTE, 'payments'))
      .then([
        ['IncidentOpened', 'am:pay1', { pager: { priority: 'P1' } }],
        ['EventSuppressed', 'am:pay1', { reason: 'storm-control' }],
        ['PostSlackMessage', storm.alias, { purpose: 'root' }],
        ['CreatePagerAlert', 'am:pay1', { priority: 'P1' }],
      ]);
    expect((d.events[1]!.data as { suppressedBy: object }).suppressedBy).not.toHaveProperty('pageGrouped');
    spec(rules)
      .given(...history([...calm, open('pay1', 3 * MINUTE, 'payments')]))
      .when(close('pay1', 4 * MINUTE, 'payments'))
      .then([
        ['IncidentResolved', 'am:pay1'],
        ['UpdateSlackMessage', storm.alias],
        ['ClosePagerAlert', 'am:pay1'],
      ]);
  });

  test('a channel with pages: each: its storms gather the threads, not the pages', () => {
    spec(rules)
      .given(...history([open('d1', 0, 'db'), open('d2', MINUTE, 'db'), open('d3', 2 * MINUTE, 'db')]))
      .when(open('d4', 3 * MINUTE, 'db'))
      .then([
        ['IncidentOpened', 'am:d4', { pager: { priority: 'P3' } }],
        ['EventSuppressed', 'am:d4', { reason: 'storm-control' }],
        ['PostSlackMessage', `storm:#db:${since}`, { purpose: 'root' }],
        ['CreatePagerAlert', 'am:d4'],
      ]);
  });
});

test('a storm of 1,000 incidents within the window costs 3 pages of their own, 1 storm page and 9 notes', () => {
  const r = new Replayer(rules);
  const out = Array.from({ length: 1_000 }, (_, i) => r.decide(open(`s${i}`, i * 500)).events).flat();
  const pager = out.filter((e) => e.type.includes('Pager'));
  expect(pager.map((e) => e.type)).toEqual([...Array(4).fill('CreatePagerAlert'), ...Array(9).fill('AddPagerNote')]);
  // Every storm command under one alias, so the pager deduplicates them into one alert and they stay in order.
  expect(new Set(pager.slice(3).map((e) => e.alias)).size).toBe(1);
});

describe('a storm\'s page has its first grouped incident\'s priority; one that outranks it pages on its own', () => {
  const bySeverity = (() => {
    const c = compileRules(
      Buffer.from(
        'defaults:\n  slack: { channel: "#alerts" }\n  pager: { priority_by_severity: { critical: P1, warning: P3 }, tags: [web] }\nstorm_control:\n  threshold: 3\n  window: 10m\n',
      ),
      'by-severity.yaml',
      { defaultChannel: '#alerts' },
    );
    if (!c.ok) throw new Error(c.message);
    return c.rules;
  })();
  const critical = (name: string, at: number) => firing(`am:${name}`, { at, labels: { team: 'web', severity: 'critical' }, title: `${name} is down`, severity: 'critical' });

  test('a critical among a storm of warnings is paged at P1 on its own; the warnings keep the storm\'s P3 page', () => {
    const before = history([...calm, open('a4', 3 * MINUTE), open('a5', 3 * MINUTE + 1_000)], bySeverity);
    const d = spec(bySeverity)
      .given(...before)
      .when(critical('db', 3 * MINUTE + 2_000))
      .then([
        ['IncidentOpened', 'am:db', { pager: { priority: 'P1' } }],
        ['EventSuppressed', 'am:db', { reason: 'storm-control', suppressedBy: { kind: 'storm', summaryIncidentId: storm.id } }],
        ['UpdateSlackMessage', storm.alias],
        ['CreatePagerAlert', 'am:db', { priority: 'P1', message: 'db is down' }],
      ]);
    expect((d.events[1]!.data as { suppressedBy: object }).suppressedBy).not.toHaveProperty('pageGrouped');
    // Before, it was the third incident of the storm's P3 page, with no page of its own and no note.
    const after = new Replayer(bySeverity);
    for (const e of [...calm, open('a4', 3 * MINUTE), open('a5', 3 * MINUTE + 1_000)]) after.decide(e);
    after.decide(critical('db', 3 * MINUTE + 2_000));
    expect(after.decide(open('a6', 3 * MINUTE + 3_000)).events.map((e) => e.type)).not.toContain('CreatePagerAlert');
  });

  test('a warning paging through the storm\'s P3 alert that turns critical is paged at P1 on its own; its resolve closes that page', () => {
    const before = [...calm, open('a4', 3 * MINUTE), open('a5', 3 * MINUTE + 1_000)];
    // A repeat at the same severity stays with the storm's page, as before.
    spec(bySeverity)
      .given(...history(before, bySeverity))
      .when(open('a5', 4 * MINUTE))
      .then([['IncidentRepeated', 'am:a5', { reason: 'duplicate' }]]);
    const rising = critical('a5', 5 * MINUTE);
    spec(bySeverity)
      .given(...history(before, bySeverity))
      .when(rising)
      .then([
        ['IncidentRepeated', 'am:a5', { pager: { priority: 'P1' }, notified: true }],
        ['CreatePagerAlert', 'am:a5', { priority: 'P1', message: 'a5 is down' }],
      ]);
    // Before, it stayed one of the storm's P3 page's incidents: nothing was sent.
    const after = new Replayer(bySeverity);
    for (const e of [...before, rising]) after.decide(e);
    expect(after.decide(critical('a5', 6 * MINUTE)).events.map((e) => e.type)).toEqual(['IncidentRepeated']);
    const closed = after.decide(close('a5', 7 * MINUTE)).events.filter((e) => e.type === 'ClosePagerAlert');
    // Its own page; the storm's stays open for a4.
    expect(closed.map((e) => e.alias)).toEqual(['am:a5']);
  });

  test('a storm member its rule did not page that turns critical is paged on its own', () => {
    const c = compileRules(
      Buffer.from(
        'defaults:\n  slack: { channel: "#alerts" }\n  pager: { enabled: false }\nstorm_control:\n  threshold: 3\n  window: 10m\n' +
          'rules:\n  - match: [\'severity="critical"\']\n    pager: { priority: P1 }\n',
      ),
      'critical-pages.yaml',
      { defaultChannel: '#alerts' },
    );
    if (!c.ok) throw new Error(c.message);
    const before = history([...calm, open('a4', 3 * MINUTE)], c.rules);
    expect(before.filter((e) => e.type === 'CreatePagerAlert')).toEqual([]);
    // Before, a storm member was never paged: `repeat` left its page to a storm that had none.
    spec(c.rules)
      .given(...before)
      .when(critical('a4', 4 * MINUTE))
      .then([
        ['IncidentRepeated', 'am:a4', { pager: { priority: 'P1' } }],
        ['CreatePagerAlert', 'am:a4', { priority: 'P1' }],
      ]);
  });

  test('a storm of criticals pages once, at P1: the next critical does not outrank the storm\'s page', () => {
    const crits = [critical('c1', 0), critical('c2', MINUTE), critical('c3', 2 * MINUTE), critical('c4', 3 * MINUTE)];
    spec(bySeverity)
      .given(...history(crits, bySeverity))
      .when(critical('c5', 3 * MINUTE + 1_000))
      .then([
        ['IncidentOpened', 'am:c5'],
        ['EventSuppressed', 'am:c5', { suppressedBy: { kind: 'storm', pageGrouped: true, pagePriority: 'P1' } }],
        ['UpdateSlackMessage', `storm:#alerts:${iso(3 * MINUTE)}`],
        ['AddPagerNote', `storm:#alerts:${iso(3 * MINUTE)}`],
      ]);
  });
});
