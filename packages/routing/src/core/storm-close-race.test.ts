/**
 * A Close of a storm's pager alert in the pager is forwarded to each open incident paging through it and decided there,
 * on their partitions: an incident that joins the storm in between (testdata/rules.storm-pages.yaml) finds the Close's
 * members still open and only adds notes to the closed alert. The last of the Close's resolves creates the storm's
 * alert again for it; before, nobody was paged for the rest of the storm while it stayed open.
 */
import { deriveId, validateEnvelope, type AnyEnvelope } from '@alertbus/schemas';
import { decide, type RouterInput } from '../decider';
import type { Neighbours } from './neighbours';
import { firing, MINUTE, resolved, T0 } from '../test-support/alerts';
import { pagerAction } from '../test-support/pager';
import { rulesFrom } from '../test-support/scenario';
import { Replayer } from './replay';

const rules = rulesFrom('rules.storm-pages.yaml');
const iso = (at: number) => new Date(T0 + at).toISOString();
const init = (name: string, at: number) => ({ at, labels: { team: 'web' }, title: `${name} is down`, severity: 'warning' });
const open = (name: string, at: number) => firing(`am:${name}`, init(name, at));
const close = (name: string, at: number) => resolved(`am:${name}`, init(name, at));

/** Three incidents within three minutes: the next one in the same channel is gathered. */
const calm = [open('a1', 0), open('a2', MINUTE), open('a3', 2 * MINUTE)];
const since = iso(3 * MINUTE);
const storm = { alias: `storm:#alerts:${since}`, id: deriveId('storm', '#alerts', since) };

const pages = (events: AnyEnvelope[]) => events.filter((e) => e.type === 'CreatePagerAlert' || e.type === 'AddPagerNote' || e.type === 'ClosePagerAlert');
const shape = (events: AnyEnvelope[]) => pages(events).map((e) => [e.type, e.alias]);

/** A storm whose alert pages for a4 and a5, closed in the pager by jane: the forwards it made, not decided yet. */
function closedStorm(): { r: Replayer; forwards: RouterInput[] } {
  const r = new Replayer(rules);
  for (const i of [...calm, open('a4', 3 * MINUTE), open('a5', 4 * MINUTE)]) r.decide(i);
  const closed = r.decide(pagerAction('Close', storm.alias, { at: 6 * MINUTE, user: 'jane' }));
  expect(closed.events.map((e) => [e.type, e.alias])).toEqual([
    ['PagerActionForwarded', 'am:a4'],
    ['PagerActionForwarded', 'am:a5'],
  ]);
  return { r, forwards: closed.events as RouterInput[] };
}

describe('an incident joining a storm while a Close of its alert is still being decided', () => {
  test('is paged: the Close\'s last resolve creates the storm\'s alert again, once; the next joiner adds a note; the last resolve closes it', () => {
    const { r, forwards } = closedStorm();
    // a6 joins before the Close's resolves are decided: a4 and a5 are still open, so it pages through the alert that was closed.
    const late = r.decide(open('a6', 6 * MINUTE + 1_000));
    expect(shape(late.events)).toEqual([]);
    expect(r.state('am:a6')).toMatchObject({ status: 'open', paged: false, storm: { id: storm.id, pageGrouped: true } });
    // The first resolve leaves a5, which the Close also ends: nothing yet.
    const first = r.decide(forwards[0]!);
    expect(first.events.filter((e) => e.type === 'IncidentResolved').map((e) => e.alias)).toEqual(['am:a4']);
    expect(shape(first.events)).toEqual([]);
    // The last one: only a6 is open, on an alert nobody has open in the pager. It is created again, for a6.
    const last = r.decide(forwards[1]!);
    for (const e of last.events) expect(validateEnvelope(e)).toEqual({ ok: true, event: e });
    expect(last.events.filter((e) => e.type === 'IncidentResolved').map((e) => e.alias)).toEqual(['am:a5']);
    expect(shape(last.events)).toEqual([['CreatePagerAlert', storm.alias]]);
    expect(pages(last.events)[0]!.data).toMatchObject({
      incidentId: storm.id,
      priority: 'P3',
      message: 'Alert storm in #alerts: a6 is down and more',
      tags: ['web', 'alert-storm'],
      details: expect.objectContaining({ alertbus_storm: storm.id, alertbus_alias: 'am:a6', alertbus_incident: r.state('am:a6')!.incidentId }),
    });
    // The next joiner finds the alert open with a6: a note, no second create.
    expect(shape(r.decide(open('a7', 7 * MINUTE)).events)).toEqual([['AddPagerNote', storm.alias]]);
    // Resolving a7 leaves a6 open on it; a6's resolve, the last, closes it.
    expect(shape(r.decide(close('a7', 8 * MINUTE)).events)).toEqual([]);
    expect(shape(r.decide(close('a6', 9 * MINUTE)).events)).toEqual([['ClosePagerAlert', storm.alias]]);
  });

  test('the same inputs decided again give the same outputs', () => {
    const run = () => {
      const { r, forwards } = closedStorm();
      const out = [...r.decide(open('a6', 6 * MINUTE + 1_000)).events];
      for (const f of forwards) out.push(...r.decide(f).events);
      return out;
    };
    expect(run()).toEqual(run());
  });

  test('with two joiners in between, the alert is created once, for the earlier one', () => {
    const { r, forwards } = closedStorm();
    r.decide(open('a6', 6 * MINUTE + 1_000));
    r.decide(open('a7', 6 * MINUTE + 2_000));
    const decided = forwards.flatMap((f) => r.decide(f).events);
    expect(shape(decided)).toEqual([['CreatePagerAlert', storm.alias]]);
    expect(pages(decided)[0]!.data).toMatchObject({ details: expect.objectContaining({ alertbus_alias: 'am:a6' }) });
  });

  test('a joiner decided after every resolve of the Close creates the alert itself, and the resolves create none', () => {
    const { r, forwards } = closedStorm();
    const decided = forwards.flatMap((f) => r.decide(f).events);
    expect(shape(decided)).toEqual([['ClosePagerAlert', storm.alias]]);
    expect(shape(r.decide(open('a6', 6 * MINUTE + 1_000)).events)).toEqual([['CreatePagerAlert', storm.alias]]);
  });

  test('a joiner between the resolves of the Close: the last resolve creates the alert, the joiner did not', () => {
    const { r, forwards } = closedStorm();
    expect(shape(r.decide(forwards[0]!).events)).toEqual([]);
    // a5 still open: a6 pages through the closed alert (its third incident: no note).
    expect(shape(r.decide(open('a6', 6 * MINUTE + 1_000)).events)).toEqual([]);
    expect(shape(r.decide(forwards[1]!).events)).toEqual([['CreatePagerAlert', storm.alias]]);
  });

  test('a forward of the Close delivered again creates nothing more', () => {
    const { r, forwards } = closedStorm();
    r.decide(open('a6', 6 * MINUTE + 1_000));
    expect(shape(forwards.flatMap((f) => r.decide(f).events))).toEqual([['CreatePagerAlert', storm.alias]]);
    // a5's forward again (a redelivery): already resolved, nothing more.
    const again = r.decide(forwards[1]!);
    expect(again.events.map((e) => [e.type, (e.data as { reason?: string }).reason])).toEqual([['EventSuppressed', 'already-resolved']]);
  });

  test('the forwards name the latest opening the Close reached', () => {
    const { forwards } = closedStorm();
    expect(forwards.map((f) => (f.data as { stormReachedUpTo?: string }).stormReachedUpTo)).toEqual([iso(4 * MINUTE), iso(4 * MINUTE)]);
  });

  test('a member received after the Close but decided before it is reached by it: its resolves page nobody again', () => {
    const r = new Replayer(rules);
    for (const i of [...calm, open('a4', 3 * MINUTE), open('a5', 4 * MINUTE)]) r.decide(i);
    // a6's partition was ahead of the storm's: decided before the Close, though the Close was received first.
    r.decide(open('a6', 6 * MINUTE + 1_000));
    const closed = r.decide(pagerAction('Close', storm.alias, { at: 6 * MINUTE, user: 'jane' }));
    expect(closed.events.map((e) => e.alias)).toEqual(['am:a4', 'am:a5', 'am:a6']);
    const decided = (closed.events as RouterInput[]).flatMap((f) => r.decide(f).events);
    expect(decided.filter((e) => e.type === 'IncidentResolved').map((e) => e.alias)).toEqual(['am:a4', 'am:a5', 'am:a6']);
    expect(shape(decided).filter(([type]) => type === 'CreatePagerAlert')).toEqual([]);
  });

  test('a member received before the Close but decided after it (its partition behind) is not reached: it is paged', () => {
    const { r, forwards } = closedStorm();
    r.decide(open('a6', 6 * MINUTE - 1_000));
    const decided = forwards.flatMap((f) => r.decide(f).events);
    expect(shape(decided)).toEqual([['CreatePagerAlert', storm.alias]]);
    expect(pages(decided)[0]!.data).toMatchObject({ details: expect.objectContaining({ alertbus_alias: 'am:a6' }) });
  });

  test('a forward written before the bound was recorded counts what opened after the Close as not reached', () => {
    const { r, forwards } = closedStorm();
    r.decide(open('a6', 6 * MINUTE + 1_000));
    const old = forwards.map((f) => {
      const { stormReachedUpTo: _bound, ...data } = f.data as { stormReachedUpTo?: string };
      return { ...f, data } as RouterInput;
    });
    expect(shape(old.flatMap((f) => r.decide(f).events))).toEqual([['CreatePagerAlert', storm.alias]]);
  });

  test('neighbours that cannot list a storm\'s later members alone decide the same, reading all of them', () => {
    const { r, forwards } = closedStorm();
    r.decide(open('a6', 6 * MINUTE + 1_000));
    r.decide(forwards[0]!);
    const all: Neighbours = {
      get: (alias) => r.states.get(alias),
      inhibitor: (...a) => r.states.inhibitor(...a),
      stormWindow: (...a) => r.states.stormWindow(...a),
      stormMembers: (...a) => r.states.stormMembers(...a),
    };
    const plain = decide(forwards[1]!, r.state('am:a5'), rules, { neighbours: all });
    expect(shape(plain.events)).toEqual([['CreatePagerAlert', storm.alias]]);
    expect(plain.events).toEqual(r.decide(forwards[1]!).events);
  });
});
