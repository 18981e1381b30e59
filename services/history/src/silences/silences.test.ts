/** Silence requests: matchers in Alertmanager syntax, durations, windows, and the state at a given instant. */
import { validateEnvelope } from '@alertbus/schemas';
import { parseDuration } from './duration';
import { silenceCreatedEvent, silenceExpiredEvent } from './events';
import { checkMatchers, parseMatcher } from './matchers';
import { silenceState } from './state';

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

  it('regexes are RE2, as in Alertmanager and the router: backtracking-prone ones are fine, lookaround is refused, 20 per silence', () => {
    expect(checkMatchers(['host=~"(a|a)*b"'])).toMatchObject({ ok: true });
    expect(checkMatchers(['team=~"(?i)DB"', 'env="prod"'])).toMatchObject({ ok: true });
    expect(checkMatchers(['host=~"(?!db).*"'])).toEqual({ ok: false, error: expect.stringMatching(/lookahead and lookbehind are not supported/) });
    const many = Array.from({ length: 21 }, (_, i) => `l${i}=~"v.*"`);
    expect(checkMatchers(many)).toEqual({ ok: false, error: '21 regex matchers (=~, !~) in one list; at most 20 are allowed' });
  });

  it('a set of matchers that all match a missing label would silence everything, and is refused', () => {
    expect(checkMatchers(['team=~".*"', 'env!="prod"'])).toEqual({ ok: false, error: expect.stringContaining('every alert') });
    expect(checkMatchers(['team=~".*"', 'env="prod"'])).toMatchObject({ ok: true });
    expect(checkMatchers([])).toMatchObject({ ok: false });
  });
});

describe('durations', () => {
  it.each([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['1w', 604_800_000],
    ['500ms', 500],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '2', 'h', '-1h', '1.5h', '0m', '2 hours'])('%j is not a duration', (text) => expect(parseDuration(text)).toBeNull());
});

describe('silence events', () => {
  const now = new Date('2025-03-01T10:00:00.000Z');

  it('SilenceCreated starts now by default and ends after the duration; it validates against its schema', () => {
    const built = silenceCreatedEvent({ matchers: ['team="db"'], duration: '2h', createdBy: 'alice', comment: 'upgrade' }, now, 'sil-1');

    expect(built).toMatchObject({
      ok: true,
      event: {
        type: 'SilenceCreated',
        alias: 'silence:sil-1',
        recordedAt: now.toISOString(),
        data: { silenceId: 'sil-1', startsAt: '2025-03-01T10:00:00.000Z', endsAt: '2025-03-01T12:00:00.000Z', kind: 'silence' },
      },
    });
    expect(validateEnvelope(built.ok && built.event).ok).toBe(true);
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
