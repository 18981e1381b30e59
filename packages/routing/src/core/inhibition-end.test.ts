/**
 * A firing inhibited while its alias had no open incident pages once nothing inhibits it (an InhibitionEndedTick), if it
 * still fires and nothing else mutes it, as Alertmanager notifies at the group's next flush once the inhibiting alert
 * resolved; and a firing kept while inhibited inhibits nothing itself.
 */
import { deriveId, type AnyEnvelope } from '@alertbus/schemas';
import { firing, HOUR, MINUTE, resolved, T0 } from '../test-support/alerts';
import { compileRules } from '../rules/compile';
import { brief, rulesFrom } from '../test-support/scenario';
import { runSteps, silence, type Step } from '../test-support/silences';
import { firstToTick, inhibitionEndTick, stillInhibited } from './inhibition-end';
import { Replayer } from './replay';
import { SilenceBook } from './silences';

const rules = rulesFrom('rules.inhibit-suppressed.yaml');
const iso = (at: number) => new Date(T0 + at).toISOString();
const CLUSTER = 'am:cluster-eu';
const SVC = 'am:svc-a';

const down = (at = 0, n = 0) => firing(CLUSTER, { at, n, severity: 'critical', title: 'ClusterDown eu', labels: { alertname: 'ClusterDown', cluster: 'eu' } });
const up = (at: number, n = 0) => resolved(CLUSTER, { at, n, severity: 'critical', title: 'ClusterDown eu', labels: { alertname: 'ClusterDown', cluster: 'eu' } });
const said = { description: 'Checkout answers 503 to every request.', values: { A: 0.93 }, links: [{ title: 'Runbook', url: 'https://runbooks.example/checkout' }] };
const svc = (at = MINUTE, n = 0) => firing(SVC, { at, n, severity: 'warning', title: 'ServiceDown checkout', labels: { alertname: 'ServiceDown', cluster: 'eu' }, ...said });
const tick = (at: number, n = 0, by = CLUSTER) => inhibitionEndTick(SVC, by, iso(at), deriveId('tick', SVC, at, n));
const opened = ['IncidentOpened:first-notification', 'PostSlackMessage:root:#alerts', 'CreatePagerAlert:P2'];

/** A replayer with its own silence book. */
function replayer(): { r: Replayer; book: SilenceBook } {
  const book = new SilenceBook();
  return { r: new Replayer(rules, { silences: book, retentionMs: 7 * 24 * HOUR }), book };
}

const run = (steps: Step[], { r, book } = replayer()): AnyEnvelope[][] => runSteps(r, book, steps);
const briefs = (steps: Step[]) => run(steps).map((events) => events.map(brief));

describe('a firing inhibited while its alias had no incident, once nothing inhibits it', () => {
  test('its inhibitor resolved: the tick opens an incident and pages, with what the alert said', () => {
    const [, inhibited, , ticked] = run([down(), svc(), up(30 * MINUTE), tick(31 * MINUTE)]);
    expect(inhibited!.map(brief)).toEqual(['EventSuppressed:inhibited']);
    // Kept with the suppression, so a state rebuilt from incidents.v1 pages the same.
    expect(inhibited![0]!.data).toMatchObject({ suppressedBy: { kind: 'inhibition', alias: CLUSTER, inhibitRule: 'cluster-down-mutes-services' }, kept: { since: iso(MINUTE), ...said } });
    expect(ticked!.map(brief)).toEqual(opened);
    expect(ticked![0]!.data).toMatchObject({ title: 'ServiceDown checkout', labels: { alertname: 'ServiceDown' }, openedAt: iso(31 * MINUTE), ...said });
    const page = ticked!.find((e) => e.type === 'CreatePagerAlert')!.data as { description: string };
    expect(page.description).toContain('Checkout answers 503');
    expect(page.description).toContain('Runbook: https://runbooks.example/checkout');
  });

  test('a tick while its inhibitor still fires (written early, or the inhibitor back) mutes it again; the next one pages', () => {
    expect(briefs([down(), svc(), tick(10 * MINUTE), up(30 * MINUTE), tick(31 * MINUTE, 1)])).toEqual([
      opened,
      ['EventSuppressed:inhibited'],
      ['EventSuppressed:inhibited'],
      ['IncidentResolved:resolved', 'PostSlackMessage:reply:#alerts', 'UpdateSlackMessage', 'ClosePagerAlert'],
      opened,
    ]);
  });

  test('resolved while inhibited: nothing when its inhibitor resolves', () => {
    expect(briefs([down(), svc(), resolved(SVC, { at: 10 * MINUTE, labels: { alertname: 'ServiceDown', cluster: 'eu' } }), up(30 * MINUTE), tick(31 * MINUTE)]).slice(2)).toEqual([
      ['EventSuppressed:resolved-without-open-incident'],
      ['IncidentResolved:resolved', 'PostSlackMessage:reply:#alerts', 'UpdateSlackMessage', 'ClosePagerAlert'],
      [],
    ]);
  });

  test('a tick redelivered (or written by two instances) pages once; one naming another inhibitor changes nothing', () => {
    expect(briefs([down(), svc(), up(30 * MINUTE), tick(31 * MINUTE), tick(31 * MINUTE), tick(32 * MINUTE, 1)]).slice(3)).toEqual([opened, [], []]);
    expect(briefs([down(), svc(), up(30 * MINUTE), tick(31 * MINUTE, 0, 'am:other')]).slice(3)).toEqual([[]]);
  });

  test('silenced at the end of its inhibition: muted by the silence, kept under it, and paged when that ends', () => {
    const out = briefs([down(), svc(), silence('m1', 20 * MINUTE, 20 * MINUTE, 2 * HOUR, { matchers: ['alertname="ServiceDown"'] }), up(30 * MINUTE), tick(31 * MINUTE)]);
    expect(out.slice(3)).toEqual([['EventSuppressed:silenced']]);
  });

  test("a firing kept while inhibited inhibits nothing: two alerts that are each other's source do not mute each other", () => {
    const compiled = compileRules(
      [
        'defaults: { slack: { channel: "#alerts" }, pager: { priority: P2 } }',
        'inhibit:',
        "  - { name: primary-mutes-replica, source_match: ['alertname=\"PrimaryDown\"'], target_match: ['alertname=\"ReplicaDown\"'], equal: [db] }",
        "  - { name: replica-mutes-primary, source_match: ['alertname=\"ReplicaDown\"'], target_match: ['alertname=\"PrimaryDown\"'], equal: [db] }",
      ].join('\n'),
      'mutual.yaml',
      { defaultChannel: '#alerts' },
    );
    if (!compiled.ok) throw new Error(compiled.message);
    const primary = (at: number, n = 0) => firing('am:primary', { at, n, title: 'PrimaryDown', labels: { alertname: 'PrimaryDown', db: 'orders' } });
    const replica = firing('am:replica', { at: MINUTE, title: 'ReplicaDown', labels: { alertname: 'ReplicaDown', db: 'orders' } });
    const book = new SilenceBook();
    const rig = { r: new Replayer(compiled.rules, { silences: book, retentionMs: 7 * 24 * HOUR }), book };
    const out = run([primary(0), replica, resolved('am:primary', { at: 10 * MINUTE, labels: { alertname: 'PrimaryDown', db: 'orders' } }), primary(20 * MINUTE, 1)], rig);
    expect(out.map((events) => events.map(brief))).toEqual([
      opened,
      ['EventSuppressed:inhibited'],
      ['IncidentResolved:resolved', 'PostSlackMessage:reply:#alerts', 'UpdateSlackMessage', 'ClosePagerAlert'],
      // The replica's firing is kept (to page once nothing inhibits it) but is no inhibitor: the primary's new occurrence opens.
      ['IncidentReopened:reopened', 'PostSlackMessage:root:#alerts', 'CreatePagerAlert:P2'],
    ]);
    expect(rig.r.states.source('am:replica')).toMatchObject({ kind: 'alert-suppressed', reason: 'inhibited', inhibitedBy: 'am:primary' });
  });

  test('stillInhibited: true while its inhibitor is open, false once it resolved (what the ticker asks before it writes)', () => {
    const rig = replayer();
    const { r } = rig;
    run([down(), svc()], rig);
    const kept = r.states.source(SVC)!;
    expect(kept).toMatchObject({ reason: 'inhibited', inhibitedBy: CLUSTER });
    expect(stillInhibited(kept, rules, { neighbours: r.states }, { atMs: T0 + 10 * MINUTE })).toBe(true);
    // The ticker looks again only once an inhibitor left the index: not for the cluster's repeat, nor the service's.
    const gone = r.states.inhibitorsGone;
    run([down(5 * MINUTE, 1), svc(6 * MINUTE, 1)], rig);
    expect(r.states.inhibitorsGone).toBe(gone);
    run([up(30 * MINUTE)], rig);
    expect(r.states.inhibitorsGone).toBe(gone + 1);
    expect(stillInhibited(kept, rules, { neighbours: r.states }, { atMs: T0 + 31 * MINUTE })).toBe(false);
  });

  test('a chain of inhibit rules pages from the top down: the PodDown its NodeDown mutes waits for the NodeDown, which opens first', () => {
    const chain = compileRules(
      [
        'defaults: { slack: { channel: "#alerts" }, pager: { priority: P2 } }',
        'inhibit:',
        "  - { name: cluster-mutes-nodes, source_match: ['alertname=\"ClusterDown\"'], target_match: ['alertname=\"NodeDown\"'], equal: [cluster] }",
        "  - { name: cluster-mutes-pods, source_match: ['alertname=\"ClusterDown\"'], target_match: ['alertname=\"PodDown\"'], equal: [cluster] }",
        "  - { name: node-mutes-pods, source_match: ['alertname=\"NodeDown\"'], target_match: ['alertname=\"PodDown\"'], equal: [node] }",
      ].join('\n'),
      'chain.yaml',
      { defaultChannel: '#alerts' },
    );
    if (!chain.ok) throw new Error(chain.message);
    const book = new SilenceBook();
    const rig = { r: new Replayer(chain.rules, { silences: book, retentionMs: 7 * 24 * HOUR }), book };
    const at = { atMs: T0 + 31 * MINUTE };
    const fire = (alias: string, alertname: string, ms: number) => firing(alias, { at: ms, title: alertname, labels: { alertname, cluster: 'eu', node: 'n1' } });
    run([fire('am:cluster', 'ClusterDown', 0), fire('am:node', 'NodeDown', MINUTE), fire('am:pod', 'PodDown', 2 * MINUTE)], rig);
    run([resolved('am:cluster', { at: 30 * MINUTE, title: 'ClusterDown', labels: { alertname: 'ClusterDown', cluster: 'eu', node: 'n1' } })], rig);
    const node = rig.r.states.source('am:node')!;
    const pod = rig.r.states.source('am:pod')!;
    // Both look free (a kept inhibited NodeDown inhibits nothing); the NodeDown goes first.
    expect([node, pod].map((k) => stillInhibited(k, chain.rules, { neighbours: rig.r.states }, at))).toEqual([false, false]);
    expect(firstToTick([pod, node], chain.rules).map((k) => k.key)).toEqual(['am:node']);
    const ticked = run([inhibitionEndTick('am:node', 'am:cluster', iso(31 * MINUTE), deriveId('tick', 'am:node'))], rig);
    expect(ticked[0]!.map(brief)).toEqual(opened);
    // Now the open NodeDown mutes the PodDown: no tick for it.
    expect(stillInhibited(pod, chain.rules, { neighbours: rig.r.states }, { atMs: T0 + 32 * MINUTE })).toBe(true);
    // Inhibit rules in a cycle: each would wait for the other, so the earliest kept goes first.
    const cycle = compileRules(
      [
        'defaults: { slack: { channel: "#alerts" } }',
        'inhibit:',
        "  - { source_match: ['alertname=\"NodeDown\"'], target_match: ['alertname=\"PodDown\"'], equal: [node] }",
        "  - { source_match: ['alertname=\"PodDown\"'], target_match: ['alertname=\"NodeDown\"'], equal: [node] }",
      ].join('\n'),
      'cycle.yaml',
      { defaultChannel: '#alerts' },
    );
    if (!cycle.ok) throw new Error(cycle.message);
    expect(firstToTick([pod, node], cycle.rules).map((k) => k.key)).toEqual(['am:node']);
  });

  test("the sender's resolve of an occurrence kept in front of a resolved incident is remembered: a late copy of its firing is not kept again, and pages nothing", () => {
    const svcAt = (at: number, n: number, startsAt: number, status: 'firing' | 'resolved' = 'firing', endsAt?: number) =>
      (status === 'firing' ? firing : resolved)(SVC, { at, n, severity: 'warning', title: 'ServiceDown checkout', labels: { alertname: 'ServiceDown', cluster: 'eu' }, startsAt: iso(startsAt), ...(endsAt !== undefined ? { endsAt: iso(endsAt) } : {}) });
    const events = run([
      svcAt(0, 0, 0),
      svcAt(5 * MINUTE, 0, 0, 'resolved', 4 * MINUTE),
      down(10 * MINUTE),
      // A new occurrence, muted by the cluster: kept in front of the first one's resolved incident.
      svcAt(11 * MINUTE, 1, 11 * MINUTE),
      svcAt(20 * MINUTE, 1, 11 * MINUTE, 'resolved', 19 * MINUTE),
      // The other Alertmanager of a pair sends that occurrence's firing late.
      svcAt(21 * MINUTE, 2, 11 * MINUTE),
      up(30 * MINUTE),
      tick(31 * MINUTE),
    ]);
    expect(events.slice(3).map((e) => e.map(brief))).toEqual([
      ['EventSuppressed:inhibited'],
      ['EventSuppressed:already-resolved'],
      // Muted (the cluster still fires), but known for a late copy: not kept, so nothing to page for.
      ['EventSuppressed:inhibited'],
      ['IncidentResolved:resolved', 'PostSlackMessage:reply:#alerts', 'UpdateSlackMessage', 'ClosePagerAlert'],
      [],
    ]);
    expect(events[3]![0]!.data).toMatchObject({ kept: { since: iso(11 * MINUTE) } });
    expect(events[4]![0]!.data).toMatchObject({ endsAt: iso(19 * MINUTE) });
    expect(events[5]![0]!.data).not.toHaveProperty('kept');
  });

  test('a replay decides the same events, byte for byte', () => {
    const steps = [down(), svc(), tick(10 * MINUTE), up(30 * MINUTE), tick(31 * MINUTE, 1), tick(31 * MINUTE, 2)];
    expect(JSON.stringify(run(steps))).toEqual(JSON.stringify(run(steps)));
  });
});
