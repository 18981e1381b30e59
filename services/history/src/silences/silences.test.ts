/** Silence requests: matchers in Alertmanager syntax, durations, windows, and the state at a given instant. */
import { validateEnvelope } from '@alertbus/schemas';
import { silenceCreatedEvent, silenceExpiredEvent, type SilenceRequest } from './events';
import { checkMatchers, parseMatcher } from './matchers';
import { silenceState } from '@alertbus/projection';

describe('matchers', () => {
  it.each([
    ['team="db"', { name: 'team', op: '=', value: 'db' }],
    ['team=db', { name: 'team', op: '=', value: 'db' }],
    ['severity!="info"', { name: 'severity', op: '!=', value: 'info' }],
    ['alertname=~"Disk.*|Cpu"', { name: 'alertname', op: '=~', value: 'Disk.*|Cpu' }],
    ['env !~ "dev|test"', { name: 'env', op: '!~', value: 'dev|test' }],
    ['msg="say \\"hi\\""', { name: 'msg', op: '=', value: 'say "hi"' }],
  ])('%s parses', (text, matcher) => {
    expect(parseMatcher(text)).toMatchObject({ ok: true, matcher });
  });

  it.each([
    ['team', /expected name="value"/],
    ['="db"', /expected name="value"/],
    ['team=="db"', /value must be a double-quoted string/],
    ['team=a b', /value must be a double-quoted string/],
    ['team=~"(db"', /bad regex/],
  ])('%s is refused', (text, error) => {
    expect(parseMatcher(text)).toEqual({ ok: false, error: expect.stringMatching(error) });
  });

  it.each([
    [['team=~".*"', 'env!="prod"'], 'every matcher accepts a missing label (Alertmanager refuses these)'],
    [['alertname=~".+"'], 'any value'],
    [['alertname!=""'], 'any value'],
    [['alertname=~".*"'], 'any value, or none'],
    [['alertname=~"(.+)"', 'severity!~"nothing"'], 'written differently'],
    [[], 'no matchers at all'],
    // status and source are alertbus's own to a silence: every alert checked is firing, from one of the webhooks.
    [['status="firing"'], 'every alert a silence sees is firing'],
    [['source=~"alertmanager|grafana|generic"'], 'every source'],
  ])('%j silences every alert (%s)', (matchers) => {
    expect(checkMatchers(matchers)).toMatchObject({ ok: true, silencesEverything: true });
  });

  it.each([
    [['team="db"']],
    [['team=~".*"', 'env="prod"']],
    [['alertname=~"Disk.*"']],
    [['alertname=~".+"', 'team="db"']],
    [['alertname=~"[A-Za-z].*"']],
    [['severity!~".*"']],
  ])('%j selects', (matchers) => {
    expect(checkMatchers(matchers)).toMatchObject({ ok: true, silencesEverything: false });
  });

  it.each([[['alertname="HighErrorRate"', 'status="500"']], [['source="billing"']], [['status="resolved"']]])(
    '%j is refused: status and source hold alertbus\'s values, so it would mute nothing',
    (matchers) => {
      const checked = checkMatchers(matchers);
      expect(checked).toEqual({ ok: false, error: expect.stringMatching(/^(status|source)="[a-z0-9]+": (status|source) is alertbus's own: silences see .* so this matcher would match no alert$/) });
    },
  );

  it('a source alertbus has, or one of several, selects', () => {
    expect(checkMatchers(['source="grafana"'])).toMatchObject({ ok: true, silencesEverything: false });
    expect(checkMatchers(['source=~"grafana|billing"', 'team="db"'])).toMatchObject({ ok: true, silencesEverything: false });
  });

  it('regexes are RE2, as in Alertmanager and the router: backtracking-prone ones are fine, lookaround is refused, 20 per silence', () => {
    expect(checkMatchers(['host=~"(a|a)*b"'])).toMatchObject({ ok: true });
    expect(checkMatchers(['team=~"(?i)DB"', 'env="prod"'])).toMatchObject({ ok: true });
    expect(checkMatchers(['host=~"(?!db).*"'])).toEqual({ ok: false, error: expect.stringMatching(/lookahead and lookbehind are not supported/) });
    const many = Array.from({ length: 21 }, (_, i) => `l${i}=~"v.*"`);
    expect(checkMatchers(many)).toEqual({ ok: false, error: '21 regex matchers (=~, !~) in one list; at most 20 are allowed' });
  });
});

describe('silence events', () => {
  const now = new Date('2025-03-01T10:00:00.000Z');
  const ctx = { now, silenceId: 'sil-1', createdBy: 'alice', maxDurationMs: 30 * 86_400_000 };
  const create = (req: Partial<SilenceRequest>) =>
    silenceCreatedEvent({ matchers: ['team="db"'], duration: '2h', comment: 'upgrade', ...req }, ctx);

  it('SilenceCreated starts now by default and ends after the duration; it validates against its schema', () => {
    const built = create({});

    expect(built).toMatchObject({
      ok: true,
      silencesEverything: false,
      event: {
        type: 'SilenceCreated',
        alias: 'silence:sil-1',
        recordedAt: now.toISOString(),
        data: { silenceId: 'sil-1', startsAt: '2025-03-01T10:00:00.000Z', endsAt: '2025-03-01T12:00:00.000Z', kind: 'silence', createdBy: 'alice' },
      },
    });
    expect(validateEnvelope(built.ok && built.event).ok).toBe(true);
  });

  it('lasts at most SILENCE_MAX_DURATION from now, counted from when it starts or from now, whichever is later', () => {
    expect(create({ duration: '30d' })).toMatchObject({ ok: true });
    expect(create({ duration: '1000d' })).toEqual({
      ok: false,
      error: 'the silence would last 1000d, longer than SILENCE_MAX_DURATION (30d): give a shorter duration or an earlier endsAt',
    });
    expect(create({ duration: '30d1s' })).toMatchObject({ ok: false, error: expect.stringContaining('would last 30d1s') });
    expect(create({ duration: undefined, endsAt: '2026-03-01T10:00:00Z' })).toMatchObject({ ok: false, error: expect.stringContaining('would last 365d') });
    // Started 40 days ago, ends in a day: it silences one more day.
    expect(create({ duration: undefined, startsAt: '2025-01-20T10:00:00Z', endsAt: '2025-03-02T10:00:00Z' })).toMatchObject({ ok: true });
    // Planned ahead: the window itself is what counts.
    expect(create({ startsAt: '2025-06-01T00:00:00Z', duration: '31d' })).toMatchObject({ ok: false, error: expect.stringContaining('would last 31d') });
  });

  it('a silence of every alert needs allowAll, and the refusal says how to ask for it', () => {
    expect(create({ matchers: ['alertname=~".+"'] })).toEqual({
      ok: false,
      error:
        'the matchers would silence every alert (each accepts a missing label or any value: alertname=~".+"): ' +
        'send "allowAll": true, with a comment saying why, to silence everything',
    });
    expect(create({ matchers: [] })).toMatchObject({ ok: false, error: expect.stringMatching(/^a silence without matchers silences every alert: send "allowAll": true/) });

    const all = create({ matchers: [], allowAll: true, comment: 'datacenter move, every alert is noise' });
    expect(all).toMatchObject({ ok: true, silencesEverything: true, event: { data: { matchers: [] } } });
    expect(validateEnvelope(all.ok && all.event).ok).toBe(true);
    expect(create({ matchers: ['alertname=~".+"'], allowAll: true })).toMatchObject({ ok: true, silencesEverything: true });
    // allowAll on a silence that selects changes nothing.
    expect(create({ allowAll: true })).toMatchObject({ ok: true, silencesEverything: false });
  });

  it.each(['', '2', '-1h', '1.5h', '2 hours'])('a duration of %j is refused: it is not a duration', (duration) => {
    expect(create({ duration })).toEqual({ ok: false, error: `duration ${JSON.stringify(duration)} is not a duration like 30m, 2h or 1h30m` });
  });

  it.each(['0m', '0s', '0h0m'])('a duration of %j is refused: a silence of no length mutes nothing', (duration) => {
    expect(create({ duration })).toEqual({ ok: false, error: `duration ${JSON.stringify(duration)} is 0: a silence must last longer than that` });
  });

  it('a blank comment is refused: a silence says why', () => {
    expect(create({ comment: '   ' })).toEqual({ ok: false, error: 'comment is blank: say why the alerts are silenced' });
  });

  it('expiring twice gives the same event id, so the projection applies it once', () => {
    const a = silenceExpiredEvent('sil-1', 'bob', now);
    const b = silenceExpiredEvent('sil-1', 'carol', new Date('2025-03-01T11:00:00Z'));

    expect(a.id).toBe(b.id);
    expect(validateEnvelope(a).ok).toBe(true);
  });
});

describe('silence state', () => {
  const s = { startsAt: '2025-03-01T10:00:00.000Z', endsAt: '2025-03-01T12:00:00.000Z', expiredAt: null };

  it.each([
    ['2025-03-01T09:59:59.999Z', 'pending'],
    ['2025-03-01T10:00:00.000Z', 'active'],
    ['2025-03-01T11:59:59.999Z', 'active'],
    ['2025-03-01T12:00:00.000Z', 'expired'],
  ])('at %s it is %s', (at, state) => expect(silenceState(s, Date.parse(at))).toBe(state));

  it('expiring by hand ends it early, even before it started', () => {
    expect(silenceState({ ...s, expiredAt: '2025-03-01T11:00:00.000Z' }, Date.parse('2025-03-01T11:30:00Z'))).toBe('expired');
    expect(silenceState({ ...s, expiredAt: '2025-03-01T11:00:00.000Z' }, Date.parse('2025-03-01T10:30:00Z'))).toBe('active');
    expect(silenceState({ ...s, expiredAt: '2025-03-01T09:00:00.000Z' }, Date.parse('2025-03-01T09:30:00Z'))).toBe('expired');
  });
});
