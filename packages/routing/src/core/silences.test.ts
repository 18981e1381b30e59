/** Silences (rules in testdata/rules.silences.yaml, silences as events): applied by event time only. */
import type { Envelope } from '@alertbus/schemas';
import { firing, HOUR, MINUTE, resolved, T0 } from '../test-support/alerts';
import { brief, rulesFrom } from '../test-support/scenario';
import { expired, silence } from '../test-support/silences';
import { Replayer } from './replay';
import { SilenceBook, type SilenceEvent } from './silences';
import { incidentIdOf } from './incident-id';

const rules = rulesFrom('rules.silences.yaml');
const iso = (at: number) => new Date(T0 + at).toISOString();

const db = (at = 0, n = 0) => firing('am:db1', { at, n, labels: { team: 'db' } });
const opened = ['IncidentOpened:first-notification', 'PostSlackMessage:root:#alerts', 'CreatePagerAlert:P2'];

function decideWith(silences: SilenceEvent[], input: Envelope<'AlertReceived'>) {
  const book = new SilenceBook();
  silences.forEach((s) => book.apply(s));
  return new Replayer(rules, { silences: book }).decide(input);
}

describe('silences', () => {
  test.each<[string, SilenceEvent[], Envelope<'AlertReceived'>, 'silenced' | 'opened', string | null]>([
    ['active: created before the alert, alert inside [startsAt, endsAt)', [silence('s1', -HOUR, -HOUR, HOUR)], db(), 'silenced', 's1'],
    ['active from its first millisecond', [silence('s1', -HOUR, 0, HOUR)], db(), 'silenced', 's1'],
    ['labels not matched', [silence('s1', -HOUR, -HOUR, HOUR)], firing('am:web', { labels: { team: 'web' } }), 'opened', null],
    ['not yet started', [silence('s1', -HOUR, 30 * MINUTE, HOUR)], db(), 'opened', null],
    ['ended (endsAt is exclusive)', [silence('s1', -HOUR, -HOUR, 0)], db(), 'opened', null],
    ['expired before the alert', [silence('s1', -HOUR, -HOUR, HOUR), expired('s1', -10 * MINUTE)], db(), 'opened', null],
    ['expired after the alert: still in force for it', [silence('s1', -HOUR, -HOUR, HOUR), expired('s1', 10 * MINUTE)], db(), 'silenced', 's1'],
    ['created after the alert, even if backdated: not in force for it', [silence('s1', 5 * MINUTE, -HOUR, HOUR)], db(), 'opened', null],
    ['created after the alert: in force for later alerts', [silence('s1', 5 * MINUTE, -HOUR, HOUR)], db(10 * MINUTE), 'silenced', 's1'],
    ['several in force: the earliest created decides', [silence('s2', -30 * MINUTE, -HOUR, HOUR), silence('s1', -HOUR, -HOUR, HOUR)], db(), 'silenced', 's1'],
    ['a silence whose matcher does not parse silences nothing', [silence('s1', -HOUR, -HOUR, HOUR, { matchers: ['team=="db"'] })], db(), 'opened', null],
    ['matchers see source, severity and status too', [silence('s1', -HOUR, -HOUR, HOUR, { matchers: ['source="alertmanager"', 'severity=~"crit.*"', 'status="firing"'] })], db(), 'silenced', 's1'],
  ])('%s', (_, silences, input, want, id) => {
    const d = decideWith(silences, input);
    if (want === 'opened') {
      expect(d.events.map(brief)).toEqual(opened);
      return;
    }
    expect(d.events.map(brief)).toEqual(['EventSuppressed:silenced']);
    expect(d.events[0]!.data).toMatchObject({ suppressedBy: { kind: 'silence', silenceId: id } });
    // Kept, to page when the silence ends (core/silence-end.ts).
    expect(d.state).toMatchObject({ kind: 'alert-suppressed', reason: 'silenced', silenceId: id });
  });

  test('a silence with a backtracking-prone regex decides a long label at once (RE2: no backtracking)', () => {
    // With JavaScript's RegExp this decision took hours, at every start (silences are replayed); the bound only
    // separates "finished" from "stuck" (see npm run bench for the figure).
    const bait = [silence('s1', -HOUR, -HOUR, HOUR, { matchers: ['host=~"(a|a)*b"'] })];
    const started = process.hrtime.bigint();
    expect(decideWith(bait, firing('am:a40', { labels: { host: 'a'.repeat(40) } })).events.map(brief)).toEqual(opened);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(2_000);
    expect(decideWith(bait, firing('am:aab', { labels: { host: 'aab' } })).events.map(brief)).toEqual(['EventSuppressed:silenced']);
  });

  test('the suppression says which silence, of what kind, by whom, why and until when', () => {
    const d = decideWith([silence('m1', -HOUR, -HOUR, HOUR, { kind: 'maintenance', comment: 'kernel upgrade' })], db());
    expect(d.events[0]!.data).toEqual({
      inputId: db().id,
      inputType: 'AlertReceived',
      reason: 'silenced',
      rule: { path: 'defaults', rulesVersion: rules.version },
      title: db().data.title,
      suppressedBy: { kind: 'silence', silenceId: 'm1', silenceKind: 'maintenance', createdBy: 'ana', comment: 'kernel upgrade', endsAt: iso(HOUR) },
      // The firing kept under the alias (to page when the silence ends), so the state stays the fold of the events.
      // With what the alert said, for the page then.
      kept: {
        since: iso(0),
        severity: 'critical',
        source: 'alertmanager',
        labels: { team: 'db' },
        description: db().data.description,
        links: db().data.links,
      },
    });
  });

  test('an open incident silenced later: its repeats are suppressed, its resolve still closes it', () => {
    const book = new SilenceBook();
    const r = new Replayer(rules, { silences: book });
    expect(r.decide(db()).events.map(brief)).toEqual(opened);
    book.apply(silence('s1', MINUTE, MINUTE, 10 * HOUR));
    const repeat = r.decide(db(5 * HOUR, 1));
    expect(repeat.events.map(brief)).toEqual(['EventSuppressed:silenced']);
    expect(repeat.events[0]!.data).toMatchObject({ incidentId: incidentIdOf('am:db1', 1, db().id) });
    expect(r.state('am:db1')).toMatchObject({ count: 1, status: 'open' });
    expect(r.decide(resolved('am:db1', { at: 6 * HOUR, labels: { team: 'db' } })).events.map(brief)).toEqual([
      'IncidentResolved:resolved',
      'PostSlackMessage:reply:#alerts',
      'UpdateSlackMessage',
      'ClosePagerAlert',
    ]);
  });

  test('after a silence ends, the still-firing alert opens an incident', () => {
    const book = new SilenceBook();
    book.apply(silence('s1', -HOUR, -HOUR, HOUR));
    const r = new Replayer(rules, { silences: book });
    expect(r.decide(db()).events.map(brief)).toEqual(['EventSuppressed:silenced']);
    expect(r.decide(db(HOUR, 1)).events.map(brief)).toEqual(opened);
  });

  test('a drop rule wins over a silence (the input is dropped either way; the reason names the rule)', () => {
    // rules.basic.yaml drops info alerts.
    const book = new SilenceBook();
    book.apply(silence('s1', -HOUR, -HOUR, HOUR));
    const d = new Replayer(rulesFrom('rules.basic.yaml'), { silences: book }).decide(firing('am:i', { severity: 'info', labels: { team: 'db', severity: 'info' } }));
    expect(d.events.map(brief)).toEqual(['EventSuppressed:dropped-by-rule']);
  });

  test('the book keeps the first SilenceCreated of an id and applies an expiry that came first', () => {
    const book = new SilenceBook();
    book.apply(expired('s1', -10 * MINUTE));
    book.apply(silence('s1', -HOUR, -HOUR, HOUR));
    book.apply(silence('s1', -HOUR, -HOUR, 10 * HOUR, { comment: 'again' }));
    expect(book.size).toBe(1);
    expect(book.all()[0]).toMatchObject({ data: { comment: 'db maintenance' }, expiry: { by: 'bo' } });
    expect(book.find({ team: 'db' }, T0)).toBeUndefined();
    expect(book.find({ team: 'db' }, T0 - 20 * MINUTE)?.silenceId).toBe('s1');
  });

  test('silences over before a time are pruned (they can silence no input recorded from then on); the others stay', () => {
    const book = new SilenceBook();
    book.apply(silence('ended', 0, 0, HOUR));
    book.apply(silence('expired-early', 0, 0, 10 * HOUR));
    book.apply(expired('expired-early', 2 * HOUR));
    book.apply(silence('running', 0, 0, 10 * HOUR));
    expect(book.prune(T0 + HOUR - 1)).toBe(0);
    expect(book.prune(T0 + HOUR)).toBe(1);
    expect(book.prune(T0 + 3 * HOUR)).toBe(1);
    expect(book.all().map((x) => x.silenceId)).toEqual(['running']);
    // What is pruned silenced nothing from then on anyway.
    expect(book.find({ team: 'db' }, T0 + 4 * HOUR)?.silenceId).toBe('running');
  });
});
