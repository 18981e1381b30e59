/**
 * A firing a silence or a drop rule suppressed still inhibits (testdata/rules.inhibit-suppressed.yaml), as in
 * Alertmanager: silencing "ClusterDown" for maintenance keeps its "ServiceDown" targets muted.
 */
import { schemaAjv, SlackKeyState, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import { firing, HOUR, MINUTE, resolved, T0 } from '../test-support/alerts';
import { brief, rulesFrom } from '../test-support/scenario';
import { silence } from '../test-support/silences';
import { decide, type AlertState } from '../decider';
import { StateIndex } from './neighbours';
import { packState, unpackState } from './packed-state';
import { Replayer } from './replay';
import { SilenceBook } from './silences';
import { incidentIdOf } from './incident-id';
import { explainAlert } from '../explain';

const rules = rulesFrom('rules.inhibit-suppressed.yaml');
const iso = (at: number) => new Date(T0 + at).toISOString();
const DAY = 24 * HOUR;

/** Silence `id` over every ClusterDown of cluster eu, in force over [starts, ends) (ms after T0). */
const maintenance = (id: string, starts = -HOUR, ends = 2 * HOUR, matchers = ['alertname="ClusterDown"', 'cluster="eu"']) =>
  silence(id, starts, starts, ends, { matchers, comment: 'eu upgrade', kind: 'maintenance' });

const SOURCE = 'am:cluster-eu';
const clusterDown = (at: number, init: { cluster?: string; env?: string; n?: number; startsAt?: string } = {}) =>
  firing(SOURCE, { at, n: init.n ?? 0, severity: 'critical', title: 'ClusterDown eu', labels: { alertname: 'ClusterDown', cluster: init.cluster ?? 'eu', ...(init.env ? { env: init.env } : {}) }, ...(init.startsAt ? { startsAt: init.startsAt } : {}) });
const clusterUp = (at: number, init: { endsAt?: string } = {}) =>
  resolved(SOURCE, { at, severity: 'critical', title: 'ClusterDown eu', labels: { alertname: 'ClusterDown', cluster: 'eu' }, ...init });
const serviceDown = (alias: string, at: number, cluster = 'eu', n = 0) =>
  firing(alias, { at, n, severity: 'warning', title: `ServiceDown ${alias}`, labels: { alertname: 'ServiceDown', cluster } });

function replayer(opts: { silenced?: boolean; retentionMs?: number; evict?: boolean } = {}) {
  const silences = new SilenceBook();
  if (opts.silenced !== false) silences.apply(maintenance('s1'));
  return new Replayer(rules, { silences, ...(opts.retentionMs !== undefined ? { retentionMs: opts.retentionMs } : {}), ...(opts.evict !== undefined ? { evict: opts.evict } : {}) });
}

const outcome = (events: AnyEnvelope[]) => events.map(brief);
const suppressedBy = (events: AnyEnvelope[]) => {
  const e = events.find((x) => x.type === 'EventSuppressed');
  return e?.type === 'EventSuppressed' ? e.data.suppressedBy : undefined;
};
const opens = ['IncidentOpened:first-notification', 'PostSlackMessage:root:#alerts', 'CreatePagerAlert:P2'];

describe('a silenced or dropped firing still inhibits its targets', () => {
  test('silenced source: the target is suppressed as inhibited, naming the source and the silence', () => {
    const r = replayer();
    expect(outcome(r.decide(clusterDown(0)).events)).toEqual(['EventSuppressed:silenced']);
    const target = r.decide(serviceDown('am:svc-a', MINUTE)).events;
    expect(outcome(target)).toEqual(['EventSuppressed:inhibited']);
    expect(suppressedBy(target)).toEqual({
      kind: 'inhibition',
      alias: SOURCE,
      inhibitRule: 'cluster-down-mutes-services',
      source: { reason: 'silenced', title: 'ClusterDown eu', silenceId: 's1' },
    });
    // Dozens of targets, one thread none of them opens.
    for (let i = 0; i < 30; i++) expect(outcome(r.decide(serviceDown(`am:svc-${i}`, 2 * MINUTE + i)).events)).toEqual(['EventSuppressed:inhibited']);
  });

  test('dropped source: the target is suppressed as inhibited, naming the drop rule', () => {
    const r = replayer({ silenced: false });
    expect(outcome(r.decide(clusterDown(0, { env: 'lab' })).events)).toEqual(['EventSuppressed:dropped-by-rule']);
    const target = r.decide(serviceDown('am:svc-a', MINUTE)).events;
    expect(outcome(target)).toEqual(['EventSuppressed:inhibited']);
    expect(suppressedBy(target)).toEqual({
      kind: 'inhibition',
      alias: SOURCE,
      inhibitRule: 'cluster-down-mutes-services',
      source: { reason: 'dropped-by-rule', title: 'ClusterDown eu', dropRule: 'drop-lab-cluster-down' },
    });
  });

  test('the source resolved: the target opens on its next firing, as when an inhibiting incident closes', () => {
    for (const silenced of [true, false]) {
      // silenced: the source is kept as a suppressed firing; not silenced: it is an open incident (today's behaviour).
      const r = replayer({ silenced });
      r.decide(clusterDown(0));
      expect(outcome(r.decide(serviceDown('am:svc-a', MINUTE)).events)).toEqual(['EventSuppressed:inhibited']);
      r.decide(clusterUp(2 * MINUTE));
      expect(outcome(r.decide(serviceDown('am:svc-a', 3 * MINUTE)).events)).toEqual(opens);
    }
  });

  test('a source whose resolve never comes stops inhibiting ROUTER_STATE_RETENTION after its latest firing', () => {
    const retentionMs = DAY;
    for (const evict of [true, false]) {
      const r = replayer({ retentionMs, evict });
      r.decide(clusterDown(0));
      // Its repeats, still silenced, keep it: retention counts from the latest.
      r.decide(clusterDown(HOUR, { n: 1 }));
      expect(outcome(r.decide(serviceDown('am:svc-a', HOUR + DAY - 1)).events)).toEqual(['EventSuppressed:inhibited']);
      // Other inputs move time on, so an evicting replayer forgets the source before the target fires again.
      r.decide(serviceDown('am:other', HOUR + DAY + 2 * HOUR, 'us'));
      expect(outcome(r.decide(serviceDown('am:svc-b', HOUR + DAY + 2 * HOUR + 1)).events)).toEqual(opens);
    }
  });

  test('another cluster (an `equal` label that differs) is not inhibited', () => {
    const r = replayer();
    r.decide(clusterDown(0));
    expect(outcome(r.decide(serviceDown('am:svc-us', MINUTE, 'us')).events)).toEqual(opens);
  });

  test('a source with an open incident inhibits as before, naming the incident', () => {
    const r = replayer({ silenced: false });
    expect(outcome(r.decide(clusterDown(0)).events)[0]).toBe('IncidentOpened:first-notification');
    const target = r.decide(serviceDown('am:svc-a', MINUTE)).events;
    expect(outcome(target)).toEqual(['EventSuppressed:inhibited']);
    expect(suppressedBy(target)).toEqual({ kind: 'inhibition', incidentId: incidentIdOf(SOURCE, 1, clusterDown(0).id), alias: SOURCE, inhibitRule: 'cluster-down-mutes-services' });
  });

  test('equal alerts never mute each other: a silenced Flap does not mute another Flap', () => {
    const silences = new SilenceBook();
    silences.apply(maintenance('s2', -HOUR, 2 * HOUR, ['alertname="Flap"', 'instance="a"']));
    const r = new Replayer(rules, { silences });
    expect(outcome(r.decide(firing('am:flap-a', { at: 0, labels: { alertname: 'Flap', cluster: 'eu', instance: 'a' } })).events)).toEqual(['EventSuppressed:silenced']);
    expect(outcome(r.decide(firing('am:flap-b', { at: MINUTE, labels: { alertname: 'Flap', cluster: 'eu', instance: 'b' } })).events)[0]).toBe('IncidentOpened:first-notification');
  });

  test('a silenced source with a resolved incident keeps it: un-silenced, it reopens as the next occurrence', () => {
    const r = replayer({ silenced: false });
    r.decide(clusterDown(-2 * DAY));
    r.decide(clusterUp(-2 * DAY + HOUR));
    const silences = new SilenceBook();
    silences.apply(maintenance('s1', -HOUR, HOUR));
    const s = new Replayer(rules, { silences, states: r.states });
    // The resolved incident is still the alias's in the index (a storm summary would still list it).
    s.decide(clusterDown(0));
    expect(s.states.get(SOURCE)).toMatchObject({ status: 'resolved', occurrence: 1 });
    expect(outcome(s.decide(serviceDown('am:svc-a', MINUTE)).events)).toEqual(['EventSuppressed:inhibited']);
    // The maintenance is over and the cluster still down: the firing becomes its incident, which inhibits from then on.
    const reopened = s.decide(clusterDown(HOUR, { n: 1 })).events;
    expect(reopened[0]).toMatchObject({ type: 'IncidentReopened', data: { occurrence: 2, previousIncidentId: incidentIdOf(SOURCE, 1, clusterDown(-2 * DAY).id) } });
    expect(suppressedBy(s.decide(serviceDown('am:svc-b', HOUR + MINUTE)).events)).toMatchObject({ alias: SOURCE, incidentId: incidentIdOf(SOURCE, 2, clusterDown(HOUR, { n: 1 }).id) });
  });

  test('a late copy of a firing its sender already resolved is not kept: nothing would ever remove it', () => {
    const r = replayer();
    const endsAt = iso(30_000);
    r.decide(clusterUp(MINUTE, { endsAt }));
    expect(outcome(r.decide(clusterDown(2 * MINUTE, { startsAt: iso(-10 * MINUTE) })).events)).toEqual(['EventSuppressed:silenced']);
    expect(outcome(r.decide(serviceDown('am:svc-a', 3 * MINUTE)).events)).toEqual(opens);
  });

  test('a silenced firing that matches no inhibit rule\'s source side is kept too: it pages when its silence ends (core/silence-end.ts)', () => {
    const silences = new SilenceBook();
    silences.apply(maintenance('s3', -HOUR, 2 * HOUR, ['alertname="DiskFull"']));
    const d = decide(firing('am:disk', { at: 0, labels: { alertname: 'DiskFull', cluster: 'eu' } }), undefined, rules, { silences });
    expect(outcome(d.events)).toEqual(['EventSuppressed:silenced']);
    expect(d.state).toMatchObject({ kind: 'alert-suppressed', reason: 'silenced', silenceId: 's3' });
  });

  test('the kept firing is a valid state record that packs and unpacks to itself', () => {
    const silences = new SilenceBook();
    silences.apply(maintenance('s1'));
    const d = decide(clusterDown(0, { startsAt: iso(-MINUTE) }), undefined, rules, { silences });
    const state = d.state as AlertState;
    expect(state).toEqual({
      kind: 'alert-suppressed',
      key: SOURCE,
      inputId: clusterDown(0).id,
      at: iso(0),
      since: iso(0),
      startsAt: iso(-MINUTE),
      title: 'ClusterDown eu',
      severity: 'critical',
      source: 'alertmanager',
      labels: { alertname: 'ClusterDown', cluster: 'eu' },
      // Silenced: what the incident opened when its silence ends shows.
      description: 'Less than 5% free on /var.',
      links: [{ title: 'Source', url: 'http://prometheus:9090/graph?g0.expr=disk' }],
      reason: 'silenced',
      silenceId: 's1',
    });
    expect(schemaAjv.validate(SlackKeyState, state)).toBe(true);
    expect(JSON.stringify(unpackState(packState(state!, SOURCE), SOURCE))).toBe(JSON.stringify(state));
  });

  test('a state index rebuilt from the states alone decides the same (a restarted router)', () => {
    const r = replayer();
    r.decide(clusterDown(0));
    const rebuilt = new StateIndex();
    const kept = r.states.source(SOURCE)!;
    rebuilt.put(SOURCE, unpackState(packState(kept, SOURCE), SOURCE));
    const silences = new SilenceBook();
    silences.apply(maintenance('s1'));
    const again = new Replayer(rules, { silences, states: rebuilt });
    expect(r.decide(serviceDown('am:svc-a', MINUTE)).events).toEqual(again.decide(serviceDown('am:svc-a', MINUTE)).events);
  });
});

test('`alertbus rules test` says that a source stays one when silenced or dropped', () => {
  expect(explainAlert(rules, clusterDown(0)).why).toContain("it is a source of an inhibit rule: silenced, it still inhibits that rule's targets, until it resolves");
  expect(explainAlert(rules, clusterDown(0, { env: 'lab' })).why).toContain('dropped, it still inhibits the targets of the inhibit rules whose source it matches, until it resolves');
  expect(explainAlert(rules, serviceDown('am:svc', 0)).why.join('\n')).not.toContain('still inhibits');
});

test('a late resolve of an earlier occurrence leaves the kept firing inhibiting', () => {
  const r = replayer();
  r.decide(clusterDown(0, { startsAt: iso(-MINUTE) }));
  // The other Alertmanager's resolve of an occurrence that ended before this one started.
  const late = resolved(SOURCE, { at: MINUTE, severity: 'critical', labels: { alertname: 'ClusterDown', cluster: 'eu' }, startsAt: iso(-HOUR), endsAt: iso(-30 * MINUTE) });
  expect(outcome(r.decide(late).events)).toEqual(['EventSuppressed:other-occurrence']);
  expect(outcome(r.decide(serviceDown('am:svc-a', 2 * MINUTE)).events)).toEqual(['EventSuppressed:inhibited']);
});
