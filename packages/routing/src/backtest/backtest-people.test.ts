/**
 * People's acks and resolves (Slack buttons and mentions, the pager's Close) are replayed with the alerts, against the
 * candidate's states: an incident a person resolved that fired again is a reopen on both sides, and an action on an
 * incident the candidate never opened does nothing there and is listed as such.
 */
import { type AliasState, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import { Replayer } from '../core/replay';
import type { RouterInput } from '../decider';
import { firing, HOUR, MINUTE, T0 } from '../test-support/alerts';
import { rulesFrom } from '../test-support/scenario';
import { buttonClick, slackMessage, BOT_MENTION } from '../test-support/slack';
import { pagerAction as webhookAction } from '../test-support/pager';
import { runBacktest, type BacktestInput } from './backtest';
import { formatBacktest } from './format';

const A = rulesFrom('rules.backtest-a.yaml');
const B = rulesFrom('rules.backtest-b.yaml');
const iso = (ms: number) => new Date(T0 + ms).toISOString();
const WINDOW = { from: iso(0), to: iso(HOUR) };

const f = (alias: string, team: string, at: number, n = 0) => firing(alias, { at, n, severity: 'warning', labels: { team } });


/** `@alertbus resolve <alias>` by mention, keyed by the alias it names (as ingest keys it). */
function mentionResolve(alias: string, at: number): Envelope<'SlackMessageReceived'> {
  const ts = `${(T0 + at) / 1000}.000100`;
  return { ...slackMessage(ts, { at, text: `${BOT_MENTION} resolve ${alias}` }), alias };
}

/**
 * What the router did with rules A over the stream, in order: a person's action is made by calling `act` with the
 * incident the alias holds then (the button carries its id), so it is what that person saw and clicked.
 */
function recorded(stream: Array<Envelope<'AlertReceived'> | ((s: AliasState) => RouterInput)>): { inputs: BacktestInput[]; outputs: AnyEnvelope[] } {
  const alias = (stream[0] as Envelope<'AlertReceived'>).alias;
  const replayer = new Replayer(A);
  const inputs: BacktestInput[] = [];
  const outputs: AnyEnvelope[] = [];
  for (const item of stream) {
    const input = typeof item === 'function' ? item(replayer.state(alias)!) : item;
    inputs.push(input as BacktestInput);
    outputs.push(...replayer.decide(input).events);
  }
  return { inputs, outputs };
}

const clickResolve = (at: number) => (s: AliasState) => buttonClick(s.alias, s.incidentId, 'alertbus_resolve', { at });
const pagerClose = (at: number) => (s: AliasState) => webhookAction('Close', s.alias, { at, alertId: 'a1b2' });
const mention = (at: number) => (s: AliasState) => mentionResolve(s.alias, at);

describe.each([
  ['a Slack button', clickResolve],
  ['a mention', mention],
  ['the pager', pagerClose],
])('resolved by a person through %s, then fired again', (_how, resolveBy) => {
  const stream = [f('am:web', 'web', 0), resolveBy(2 * MINUTE), f('am:web', 'web', 5 * MINUTE, 1)];

  test('the rules in force report no change: a reopen on both sides', async () => {
    const { inputs, outputs } = recorded(stream);
    // The recording: resolved by the person, then a new occurrence with its own thread and page.
    expect(outputs.filter((e) => e.type === 'IncidentResolved' || e.type === 'IncidentReopened').map((e) => e.type)).toEqual(['IncidentResolved', 'IncidentReopened']);

    const report = await runBacktest(A, WINDOW, { silences: [], history: [], inputs, actual: outputs });
    expect(report.changes).toEqual([]);
    expect(report.totals).toMatchObject({ inputs: 2, undecided: 0, changed: 0 });
    expect(report.totals.candidate).toEqual(report.totals.actual);
    expect(report.totals.actual).toMatchObject({ opened: 2, paged: 2, messages: { '#alerts': 2 } });
    expect(report.people).toEqual({ inputs: 1, changed: [] });
    expect(formatBacktest(report, 'rules.yaml')).toContain('No incident would have a different outcome.');
  });

  test('a candidate that never opened the incident: the action does nothing there, and the report says so', async () => {
    const search = [f('am:search', 'search', 0), resolveBy(2 * MINUTE), f('am:search', 'search', 5 * MINUTE, 1)];
    const { inputs, outputs } = recorded(search);
    const report = await runBacktest(B, WINDOW, { silences: [], history: [], inputs, actual: outputs });
    // The alerts' comparison: B drops both firings, each an occurrence of its own in the recording (resolved between).
    const dropped = ['channel', 'priority', 'paged', 'suppressed', 'messages'];
    expect(report.changes.map((c) => [c.alias, c.differences, c.actualIncidents.length])).toEqual([
      ['am:search', dropped, 1],
      ['am:search', dropped, 1],
    ]);
    expect(report.totals.candidate).toMatchObject({ opened: 0, paged: 0, suppressed: { 'dropped-by-rule': 2 } });
    const via = resolveBy === pagerClose ? 'pager' : 'slack';
    expect(report.people).toEqual({
      inputs: 1,
      changed: [
        {
          alias: 'am:search',
          at: iso(2 * MINUTE),
          via,
          actual: { did: 'resolved' },
          candidate: { did: 'nothing', reason: 'no-incident', incident: 'none' },
        },
      ],
    });
    const text = formatBacktest(report, 'rules.yaml');
    expect(text).toContain('Inputs from people replayed (Slack and the pager): 1 · acks and resolves with another effect under the candidate: 1');
    expect(text).toContain(`  am:search  ${iso(2 * MINUTE)}  resolved by a person ${via === 'pager' ? 'in the pager' : 'in Slack'} in the recording; not opened under the candidate`);
  });
});

test('a window with no person acting prints no line about people', async () => {
  const { inputs, outputs } = recorded([f('am:web', 'web', 0)]);
  const report = await runBacktest(A, WINDOW, { silences: [], history: [], inputs, actual: outputs });
  expect(report.people).toEqual({ inputs: 0, changed: [] });
  expect(formatBacktest(report, 'rules.yaml')).not.toContain('from people');
});

test('an action the router has not decided yet is replayed but not compared', async () => {
  const { inputs, outputs } = recorded([f('am:search', 'search', 0), clickResolve(2 * MINUTE)]);
  const click = inputs[1]!;
  const report = await runBacktest(B, WINDOW, { silences: [], history: [], inputs, actual: outputs.filter((e) => e.causationId !== click.id) });
  expect(report.people).toEqual({ inputs: 1, changed: [] });
});
