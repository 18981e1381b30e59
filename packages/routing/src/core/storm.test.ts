/** Storm control (testdata/rules.storm.yaml): above 3 new incidents in 10 minutes, further ones go into one summary. */
import { deriveId, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import { firing, HOUR, MINUTE, resolved, T0 } from '../test-support/alerts';
import { brief, rulesFrom } from '../test-support/scenario';
import { Replayer } from './replay';

const rules = rulesFrom('rules.storm.yaml');
const iso = (at: number) => new Date(T0 + at).toISOString();
const open = (name: string, at: number, team = 'web') => firing(`am:${name}`, { at, labels: { team }, title: `${name} is down`, severity: 'warning' });
const close = (name: string, at: number, team = 'web') => resolved(`am:${name}`, { at, labels: { team }, title: `${name} is down`, severity: 'warning' });

const posted = ['IncidentOpened:first-notification', 'PostSlackMessage:root:#alerts', 'CreatePagerAlert:P3'];

function play(r: Replayer, inputs: Envelope<'AlertReceived'>[]): AnyEnvelope[][] {
  return inputs.map((i) => r.decide(i).events);
}

describe('storm control (rules.storm.yaml)', () => {
  test('the 4th new incident within 10 minutes starts a summary; the 5th updates it; a resolve updates it; calm posts again', () => {
    const r = new Replayer(rules);
    const out = play(r, [open('a1', 0), open('a2', MINUTE), open('a3', 2 * MINUTE), open('a4', 3 * MINUTE), open('a5', 4 * MINUTE), close('a4', 5 * MINUTE), open('a6', 30 * MINUTE), open('a5', 5 * HOUR)]);
    const storm = { id: deriveId('storm', '#alerts', iso(3 * MINUTE)), alias: `storm:#alerts:${iso(3 * MINUTE)}` };

    expect(out.slice(0, 3).map((d) => d.map(brief))).toEqual([posted, posted, posted]);
    // 4th: opened and paged as usual, but gathered: no thread of its own, the summary is posted instead.
    expect(out[3]!.map(brief)).toEqual(['IncidentOpened:first-notification', 'EventSuppressed:storm-control', 'PostSlackMessage:root:#alerts', 'CreatePagerAlert:P3']);
    expect(out[3]![0]!.data).not.toHaveProperty('slack');
    expect(out[3]![1]!.data).toMatchObject({
      incidentId: (out[3]![0]!.data as { incidentId: string }).incidentId,
      suppressedBy: { kind: 'storm', channel: '#alerts', summaryIncidentId: storm.id, since: iso(3 * MINUTE), threshold: 3, window: '10m' },
    });
    expect(out[3]![2]).toMatchObject({ alias: storm.alias, data: { incidentId: storm.id, purpose: 'root' } });
    expect(out[3]![3]!.alias).toBe('am:a4');
    // 5th: the summary is updated in place and lists both.
    expect(out[4]!.map(brief)).toEqual(['IncidentOpened:first-notification', 'EventSuppressed:storm-control', 'UpdateSlackMessage', 'CreatePagerAlert:P3']);
    const update = out[4]![2]!.data as { incidentId: string; text: string; blocks: Array<{ text?: { text: string } }> };
    expect(update.incidentId).toBe(storm.id);
    expect(update.text).toBe(`[STORM] Alert storm in #alerts: 2 incidents gathered here since ${iso(3 * MINUTE)} (2 open)`);
    expect(update.blocks[2]!.text!.text.split('\n')).toEqual(['🔥 a4 is down (warning) · `am:a4`', '🔥 a5 is down (warning) · `am:a5`']);
    // A gathered incident resolves: no thread to reply in, the summary shows it resolved, the pager closes.
    expect(out[5]!.map(brief)).toEqual(['IncidentResolved:resolved', 'UpdateSlackMessage', 'ClosePagerAlert']);
    expect((out[5]![1]!.data as { blocks: Array<{ text?: { text: string } }> }).blocks[2]!.text!.text).toContain('✅ a4 is down');
    // Calm again: its own thread.
    expect(out[6]!.map(brief)).toEqual(posted);
    // A gathered incident re-notified after its interval has no thread: counted, nothing posted.
    expect(out[7]!.map(brief)).toEqual(['IncidentRepeated:repeat-interval-elapsed']);
    expect(r.state('am:a4')?.storm).toEqual({ id: storm.id, channel: '#alerts', since: iso(3 * MINUTE), threshold: 3, window: '10m' });
  });

  test('a later storm gets a new summary', () => {
    const r = new Replayer(rules);
    play(r, [open('a1', 0), open('a2', MINUTE), open('a3', 2 * MINUTE), open('a4', 3 * MINUTE)]);
    const later = play(r, [open('b1', 60 * MINUTE), open('b2', 61 * MINUTE), open('b3', 62 * MINUTE), open('b4', 63 * MINUTE)]);
    expect(later.slice(0, 3).map((d) => d.map(brief))).toEqual([posted, posted, posted]);
    expect(later[3]!.map(brief)).toContain('PostSlackMessage:root:#alerts');
    expect(later[3]![2]!.data).toMatchObject({ incidentId: deriveId('storm', '#alerts', iso(63 * MINUTE)), purpose: 'root' });
  });

  test('per-channel limits: #db storms above 1 per minute; #quiet never storms', () => {
    const db = play(new Replayer(rules), [open('d1', 0, 'db'), open('d2', 30_000, 'db'), open('d3', 2 * MINUTE, 'db')]);
    expect(db.map((d) => d.map(brief)[1])).toEqual(['PostSlackMessage:root:#db', 'EventSuppressed:storm-control', 'PostSlackMessage:root:#db']);
    expect(db[1]![2]).toMatchObject({ data: { purpose: 'root', incidentId: deriveId('storm', '#db', iso(30_000)) } });
    const quiet = play(new Replayer(rules), [0, 1, 2, 3, 4, 5].map((i) => open(`q${i}`, i * 1000, 'quiet')));
    expect(quiet.map((d) => d.map(brief)[1])).toEqual(Array(6).fill('PostSlackMessage:root:#quiet'));
  });

  test('channels count separately', () => {
    const out = play(new Replayer(rules), [open('a1', 0), open('a2', 1000), open('a3', 2000), open('q1', 3000, 'quiet'), open('a4', 4000)]);
    expect(out[3]!.map(brief)[1]).toBe('PostSlackMessage:root:#quiet');
    expect(out[4]!.map(brief)[1]).toBe('EventSuppressed:storm-control');
  });
});
