/** A firing silenced when it fired pages when its silence ends (a SilenceEndedTick), if it still fires and nothing else mutes it. */
import { deriveId, type AnyEnvelope } from '@alertbus/schemas';
import { firing, HOUR, MINUTE, resolved, T0 } from '../test-support/alerts';
import { brief, rulesFrom } from '../test-support/scenario';
import { expired, runSteps, silence, type Step } from '../test-support/silences';
import { Replayer } from './replay';
import { SilenceBook } from './silences';
import { silenceEndTick } from './silence-end';

const rules = rulesFrom('rules.silences.yaml');
const iso = (at: number) => new Date(T0 + at).toISOString();

const db = (at = 0, n = 0) => firing('am:db1', { at, n, labels: { team: 'db' } });
const tick = (silenceId: string, at: number, n = 0) => silenceEndTick('am:db1', silenceId, iso(at), deriveId('tick', silenceId, at, n));
const opened = ['IncidentOpened:first-notification', 'PostSlackMessage:root:#alerts', 'CreatePagerAlert:P2'];

function run(steps: Step[]): AnyEnvelope[][] {
  const book = new SilenceBook();
  return runSteps(new Replayer(rules, { silences: book, retentionMs: 7 * 24 * HOUR }), book, steps);
}
const briefs = (steps: Step[]) => run(steps).map((events) => events.map(brief));

describe('a firing silenced when it fired, when its silence ends', () => {
  test('its silence ran out (endsAt): the tick opens an incident and pages', () => {
    const [fired, ticked] = run([silence('s1', -HOUR, -HOUR, HOUR), db(), tick('s1', HOUR + MINUTE)]);
    expect(fired!.map(brief)).toEqual(['EventSuppressed:silenced']);
    expect(ticked!.map(brief)).toEqual(opened);
    expect(ticked![0]!.data).toMatchObject({ title: 'Disk almost full on am:db1', labels: { team: 'db' }, openedAt: iso(HOUR + MINUTE) });
  });

  test("the page shows what the alert said: its description, measured values and links, kept through the silence", () => {
    const said = {
      description: 'Less than 5% free on /var; the import job writes there.',
      values: { A: 97.5, B: null },
      links: [{ title: 'Runbook', url: 'https://runbooks.example/disk-full' }],
    };
    const [fired, ticked] = run([silence('s1', -HOUR, -HOUR, HOUR), firing('am:db1', { labels: { team: 'db' }, ...said }), tick('s1', HOUR + MINUTE)]);
    // Kept with the suppression too, so a state rebuilt from incidents.v1 pages the same.
    expect(fired![0]!.data).toMatchObject({ reason: 'silenced', kept: said });
    expect(ticked!.map(brief)).toEqual(opened);
    expect(ticked![0]!.data).toMatchObject(said);
    const post = JSON.stringify(ticked!.find((e) => e.type === 'PostSlackMessage')!.data);
    expect(post).toContain('the import job writes there');
    expect(post).toContain('https://runbooks.example/disk-full');
    const page = ticked!.find((e) => e.type === 'CreatePagerAlert')!.data as { description: string };
    expect(page.description).toContain('the import job writes there');
    expect(page.description).toContain('Runbook: https://runbooks.example/disk-full');
    expect(page.description).toContain('97.5');
  });

  test('ended early (SilenceExpired, `/alertbus unsilence`): the tick opens an incident and pages', () => {
    expect(briefs([silence('s1', -HOUR, -HOUR, 4 * HOUR), db(), expired('s1', 10 * MINUTE), tick('s1', 10 * MINUTE)])).toEqual([['EventSuppressed:silenced'], opened]);
  });

  test('resolved during the silence: nothing at its end', () => {
    expect(briefs([silence('s1', -HOUR, -HOUR, HOUR), db(), resolved('am:db1', { at: 30 * MINUTE }), tick('s1', HOUR)])).toEqual([
      ['EventSuppressed:silenced'],
      ['EventSuppressed:resolved-without-open-incident'],
      [],
    ]);
  });

  test('a second silence still in force: nothing paged; it pages when that one ends, once', () => {
    const steps = [silence('s1', -HOUR, -HOUR, HOUR), silence('s2', -HOUR / 2, -HOUR, 3 * HOUR), db(), tick('s1', HOUR), tick('s1', HOUR, 1), tick('s2', 3 * HOUR)];
    const out = run(steps);
    expect(out.map((events) => events.map(brief))).toEqual([['EventSuppressed:silenced'], ['EventSuppressed:silenced'], [], opened]);
    expect(out[0]![0]!.data).toMatchObject({ suppressedBy: { silenceId: 's1' } });
    expect(out[1]![0]!.data).toMatchObject({ suppressedBy: { silenceId: 's2' } });
  });

  test('a tick redelivered (or written by two instances) pages once', () => {
    expect(briefs([silence('s1', -HOUR, -HOUR, HOUR), db(), tick('s1', HOUR), tick('s1', HOUR), tick('s1', HOUR + MINUTE, 1)])).toEqual([['EventSuppressed:silenced'], opened, [], []]);
  });

  test('a tick before the silence ends (a clock ahead of it) changes nothing; the one after pages', () => {
    expect(briefs([silence('s1', -HOUR, -HOUR, HOUR), db(), tick('s1', 30 * MINUTE), tick('s1', HOUR, 1)])).toEqual([['EventSuppressed:silenced'], [], opened]);
  });

  test('a firing that fired again after the silence ended opened already: the tick adds nothing', () => {
    expect(briefs([silence('s1', -HOUR, -HOUR, HOUR), db(), db(HOUR, 1), tick('s1', HOUR + MINUTE)])).toEqual([['EventSuppressed:silenced'], opened, []]);
  });

  test('a kept firing expired (ROUTER_STATE_RETENTION after its latest firing): stale, nothing pages', () => {
    expect(briefs([silence('s1', -HOUR, -HOUR, 30 * 24 * HOUR), db(), tick('s1', 30 * 24 * HOUR)])).toEqual([['EventSuppressed:silenced'], []]);
  });

  test("stale: its sender's own endsAt passed with no newer firing by the silence's end, nothing pages", () => {
    const withEnd = (at: number, endsAt: number, n = 0) => firing('am:db1', { at, n, labels: { team: 'db' }, endsAt: iso(endsAt) });
    expect(briefs([silence('s1', -HOUR, -HOUR, HOUR), withEnd(0, 30 * MINUTE), tick('s1', HOUR)])).toEqual([['EventSuppressed:silenced'], []]);
    // Refreshed by a newer firing whose end is after the silence's: it pages.
    expect(briefs([silence('s1', -HOUR, -HOUR, HOUR), withEnd(0, 30 * MINUTE), withEnd(20 * MINUTE, 2 * HOUR, 1), tick('s1', HOUR)])).toEqual([
      ['EventSuppressed:silenced'],
      ['EventSuppressed:silenced'],
      opened,
    ]);
  });

  test('a tick for an alias that kept nothing, or for another silence, changes nothing', () => {
    expect(briefs([tick('s1', HOUR)])).toEqual([[]]);
    expect(briefs([silence('s1', -HOUR, -HOUR, HOUR), db(), tick('s9', HOUR)])).toEqual([['EventSuppressed:silenced'], []]);
  });

  test('a replay decides the same events, byte for byte', () => {
    const steps = [silence('s1', -HOUR, -HOUR, HOUR), silence('s2', -HOUR / 2, -HOUR, 3 * HOUR), db(), tick('s1', HOUR), tick('s2', 3 * HOUR), tick('s2', 3 * HOUR, 1)];
    expect(JSON.stringify(run(steps))).toEqual(JSON.stringify(run(steps)));
    expect(run(steps).flat().map(brief)).toEqual(['EventSuppressed:silenced', 'EventSuppressed:silenced', ...opened]);
  });
});
