/**
 * A silenced or dropped firing kept as an inhibitor, and an inhibited firing kept to page when nothing inhibits it
 * (SuppressedFiring), is derivable from incidents.v1, as a kept resolve
 * is: folding an alias's incident events (evolveAlert) gives exactly the state each decision returned — when the firing
 * is kept, refreshed, left as it was by a late copy, let go, removed by its resolve, and after it expired.
 */
import type { AnyEnvelope, Envelope } from '@alertbus/schemas';
import { mulberry32 } from '@alertbus/spec';
import { alert, firing, HOUR, MINUTE, resolved, T0 } from '../test-support/alerts';
import { brief, rulesFrom } from '../test-support/scenario';
import { silence as silenceOf } from '../test-support/silences';
import { decide, isIncidentEvent, isSuppressedFiring, type AlertInput, type AlertState } from '../decider';
import type { CompiledRules } from '../rules/types';
import { evolveAlert } from './evolve';
import { StateIndex } from './neighbours';
import { SilenceBook } from './silences';

const iso = (at: number) => new Date(T0 + at).toISOString();
const DAY = 24 * HOUR;

const silence = (id: string, matchers: string[], starts: number, ends: number) =>
  silenceOf(id, starts, starts, ends, { matchers, comment: 'eu upgrade', kind: 'maintenance' });

/**
 * Decides `inputs` in order as the router does (every alias's state in the index), and after each decision checks that
 * the fold of the alias's incident events so far equals the state it returned. Returns the decisions' events.
 */
function decideAndFold(rules: CompiledRules, book: SilenceBook, inputs: AlertInput[], retentionMs?: number) {
  const index = new StateIndex();
  const states = new Map<string, AlertState>();
  const folded = new Map<string, AlertState>();
  const events: AnyEnvelope[] = [];
  const ctx = { neighbours: index, silences: book, ...(retentionMs !== undefined ? { retentionMs } : {}) };
  let kept = 0;
  for (const input of inputs) {
    const d = decide(input, states.get(input.alias), rules, ctx);
    for (const e of d.events.filter(isIncidentEvent)) folded.set(e.alias, evolveAlert(folded.get(e.alias), e, retentionMs));
    expect([input.alias, folded.get(input.alias)]).toEqual([input.alias, d.state]);
    if (isSuppressedFiring(d.state)) kept += 1;
    if (d.state) states.set(input.alias, d.state);
    else states.delete(input.alias);
    index.put(input.alias, d.state);
    events.push(...d.events);
  }
  return { events, kept, states };
}

const kept = (events: AnyEnvelope[]) => events.filter((e) => e.type === 'EventSuppressed' && e.data.kept !== undefined).map((e) => [brief(e), (e.data as { kept?: unknown }).kept]);

describe('a kept suppressed firing is the fold of its incident events (testdata/rules.inhibit-suppressed.yaml)', () => {
  const rules = rulesFrom('rules.inhibit-suppressed.yaml');
  const SOURCE = 'am:cluster-eu';
  const labels = { alertname: 'ClusterDown', cluster: 'eu' };
  const down = (at: number, n: number, more: Record<string, string> = {}, startsAt?: string) =>
    firing(SOURCE, { at, n, severity: 'critical', title: 'ClusterDown eu', labels: { ...labels, ...more }, ...(startsAt ? { startsAt } : {}) });
  const up = (at: number, n: number, init: { startsAt?: string; endsAt?: string } = {}) => resolved(SOURCE, { at, n, severity: 'critical', title: 'ClusterDown eu', labels, ...init });
  const service = (alias: string, at: number) => firing(alias, { at, severity: 'warning', title: `ServiceDown ${alias}`, labels: { alertname: 'ServiceDown', cluster: 'eu' } });

  test('kept, refreshed (a new `at`, the same `since`), inhibiting, then removed by its resolve; the event carries what the state holds', () => {
    const book = new SilenceBook();
    book.apply(silence('s1', ['alertname="ClusterDown"'], -HOUR, 10 * HOUR));
    const { events, states } = decideAndFold(rules, book, [
      down(0, 0, {}, iso(-MINUTE)),
      service('am:svc-a', MINUTE),
      down(5 * MINUTE, 1, {}, iso(-MINUTE)),
      service('am:svc-b', 6 * MINUTE),
      up(10 * MINUTE, 0),
      service('am:svc-c', 11 * MINUTE),
    ]);
    expect(events.filter((e) => e.alias === SOURCE || e.alias === 'am:svc-b').map(brief)).toEqual(['EventSuppressed:silenced', 'EventSuppressed:silenced', 'EventSuppressed:inhibited', 'EventSuppressed:resolved-without-open-incident']);
    const said = { description: 'Less than 5% free on /var.', links: [{ title: 'Source', url: 'http://prometheus:9090/graph?g0.expr=disk' }] };
    const fields = { since: iso(0), startsAt: iso(-MINUTE), severity: 'critical', source: 'alertmanager', labels, ...said };
    // The targets it inhibited are kept too, each with what it said, to page once nothing inhibits them.
    const target = (at: number) => ['EventSuppressed:inhibited', { since: iso(at), severity: 'warning', source: 'alertmanager', labels: { alertname: 'ServiceDown', cluster: 'eu' }, ...said }];
    expect(kept(events)).toEqual([['EventSuppressed:silenced', fields], target(MINUTE), ['EventSuppressed:silenced', fields], target(6 * MINUTE)]);
    expect(states.get(SOURCE)).toBeUndefined();
    expect(states.get('am:svc-b')).toMatchObject({ kind: 'alert-suppressed', reason: 'inhibited', inhibitedBy: SOURCE, inhibitRule: expect.any(String) });
    expect(events.filter((e) => e.alias === 'am:svc-c').map(brief)).toContain('IncidentOpened:first-notification');
  });

  test('in front of its resolved incident: refreshed, left as it was by a late copy, still kept (to page when its silence ends) when it matches no inhibit source', () => {
    const book = new SilenceBook();
    book.apply(silence('s2', ['alertname=~"ClusterDown|Other"'], 11 * MINUTE, 10 * HOUR));
    const S1 = iso(-MINUTE);
    const { events, states } = decideAndFold(rules, book, [
      down(0, 0, {}, S1),
      up(10 * MINUTE, 0, { startsAt: S1, endsAt: iso(9 * MINUTE) }),
      // A new occurrence, silenced: kept in front of the resolved incident.
      down(11 * MINUTE, 1, {}, iso(10 * MINUTE + 30_000)),
      // A late copy of the first occurrence, silenced: the kept firing stays as it was.
      down(12 * MINUTE, 2, {}, S1),
      down(20 * MINUTE, 3, {}, iso(10 * MINUTE + 30_000)),
      service('am:svc-a', 21 * MINUTE),
      // The same alias, silenced, now with labels no inhibit rule's source matches: still kept, it inhibits nothing.
      firing(SOURCE, { at: 30 * MINUTE, n: 4, severity: 'critical', title: 'ClusterDown eu', labels: { alertname: 'Other', cluster: 'eu' } }),
      service('am:svc-b', 31 * MINUTE),
    ]);
    expect(events.filter((e) => e.alias === SOURCE && e.type === 'EventSuppressed').map(brief)).toEqual(Array(4).fill('EventSuppressed:silenced'));
    expect(kept(events).map(([b, k]) => [b, k === false ? false : (k as { since: string }).since])).toEqual([
      ['EventSuppressed:silenced', iso(11 * MINUTE)],
      ['EventSuppressed:silenced', iso(11 * MINUTE)],
      ['EventSuppressed:inhibited', iso(21 * MINUTE)],
      ['EventSuppressed:silenced', iso(11 * MINUTE)],
    ]);
    expect(events.filter((e) => e.alias === 'am:svc-a').map(brief)).toEqual(['EventSuppressed:inhibited']);
    expect(events.filter((e) => e.alias === 'am:svc-b').map(brief)).toContain('IncidentOpened:first-notification');
    // What the alias holds in the end: the kept firing, with its new labels, in front of its resolved incident.
    expect(states.get(SOURCE)).toMatchObject({ kind: 'alert-suppressed', labels: { alertname: 'Other' }, previous: { status: 'resolved', occurrence: 1 } });
  });

  test('expired (ROUTER_STATE_RETENTION after its latest firing): a new silenced firing is kept afresh, with a new `since`', () => {
    const RETENTION = 2 * DAY;
    const book = new SilenceBook();
    book.apply(silence('s3', ['alertname="ClusterDown"'], -HOUR, 10 * DAY));
    const { events } = decideAndFold(
      rules,
      book,
      [down(0, 0), service('am:svc-a', HOUR), down(RETENTION + HOUR, 1), service('am:svc-b', RETENTION + 2 * HOUR), up(RETENTION + 3 * HOUR, 0)],
      RETENTION,
    );
    expect(kept(events).map(([b, k]) => [b, (k as { since: string }).since])).toEqual([
      ['EventSuppressed:silenced', iso(0)],
      ['EventSuppressed:inhibited', iso(HOUR)],
      ['EventSuppressed:silenced', iso(RETENTION + HOUR)],
      ['EventSuppressed:inhibited', iso(RETENTION + 2 * HOUR)],
    ]);
    expect(events.filter((e) => e.alias.startsWith('am:svc')).map(brief)).toEqual(['EventSuppressed:inhibited', 'EventSuppressed:inhibited']);
  });
});

test('a stream of silenced, dropped, inhibited, resolved and reopened alerts: every decided state is the fold of its events, with and without retention', () => {
  const rules = rulesFrom('rules.inhibit-suppressed.yaml');
  const rnd = mulberry32(4711);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const book = new SilenceBook();
  book.apply(silence('r1', ['alertname=~"ClusterDown|Other"', 'cluster="eu"'], 2 * HOUR, 400 * HOUR));
  const inputs: Envelope<'AlertReceived'>[] = [];
  let at = 0;
  for (let n = 0; n < 1500; n++) {
    at += Math.floor(rnd() * 20 * MINUTE);
    const i = Math.floor(rnd() * 12);
    const alertname = pick(['ClusterDown', 'ClusterDown', 'ServiceDown', 'ServiceDown', 'Flap', 'Other']);
    const cluster = pick(['eu', 'eu', 'us']);
    const starts = at - Math.floor(rnd() * 30 * MINUTE);
    const status = rnd() < 0.35 ? 'resolved' : 'firing';
    inputs.push(
      alert(`am:mix-${i}`, status, {
        at,
        n,
        severity: alertname === 'ClusterDown' ? 'critical' : 'warning',
        title: `${alertname} ${cluster}`,
        labels: { alertname, cluster, ...(rnd() < 0.2 ? { env: 'lab' } : {}) },
        startsAt: iso(starts),
        ...(status === 'resolved' ? { endsAt: iso(at - Math.floor(rnd() * 5 * MINUTE)) } : {}),
      }),
    );
  }
  const without = decideAndFold(rules, book, inputs);
  const withRetention = decideAndFold(rules, book, inputs, 6 * HOUR);
  // The stream holds what it should: firings kept, refreshed, let go, and targets they inhibited.
  for (const run of [without, withRetention]) {
    expect(run.kept).toBeGreaterThan(20);
    const reasons = new Set(run.events.map((e) => (e.type === 'EventSuppressed' ? `${e.data.reason}:${e.data.kept === false ? 'let-go' : e.data.kept ? 'kept' : ''}` : '')));
    // A silenced firing is never let go for its labels (it is kept to page when its silence ends): no 'silenced:let-go'.
    expect([...reasons]).toEqual(expect.arrayContaining(['silenced:kept', 'dropped-by-rule:kept', 'inhibited:kept']));
    expect([...reasons]).not.toContain('silenced:let-go');
  }
});
