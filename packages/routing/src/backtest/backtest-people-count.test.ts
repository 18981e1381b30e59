/**
 * The count of people's inputs is of what people did: the thread links the router writes when a root is posted, and
 * the records it forwards to itself for a typed `ack`, are replayed (decisions need them) but are not a person's.
 */
import type { AnyEnvelope } from '@alertbus/schemas';
import { Replayer } from '../core/replay';
import { SLACK_INPUT_TYPES, type RouterInput } from '../decider';
import { firing, HOUR, MINUTE, T0 } from '../test-support/alerts';
import { rulesFrom } from '../test-support/scenario';
import { BOT_MENTION, rootPosted, slackMessage } from '../test-support/slack';
import { runBacktest, type BacktestInput } from './backtest';
import { formatBacktest } from './format';

const A = rulesFrom('rules.backtest-a.yaml');
const iso = (ms: number) => new Date(T0 + ms).toISOString();
const WINDOW = { from: iso(0), to: iso(HOUR) };
const ALIASES = Array.from({ length: 12 }, (_, i) => `am:web-${i}`);
const rootTs = (i: number) => `${(T0 + i * 1000) / 1000}.000100`;

/**
 * The router's run over 12 alerts whose roots were posted, and optionally one `ack` typed by a person in the first
 * thread: the inputs as the backtest reads them from Kafka (alerts, and every Slack input on slack.received.v1, the
 * router's own records included) and everything the router wrote.
 */
function recorded(opts: { typedAck: boolean }): { inputs: BacktestInput[]; outputs: AnyEnvelope[] } {
  const replayer = new Replayer(A);
  const inputs: BacktestInput[] = [];
  const outputs: AnyEnvelope[] = [];
  const run = (first: RouterInput, asInput: boolean) => {
    const queue: Array<{ input: RouterInput; asInput: boolean }> = [{ input: first, asInput }];
    while (queue.length > 0) {
      const { input, asInput: taken } = queue.shift()!;
      if (taken) inputs.push(input as BacktestInput);
      for (const e of replayer.decide(input).events) {
        outputs.push(e);
        // What the router writes to slack.received.v1 comes back to it as an input.
        if (SLACK_INPUT_TYPES.has(e.type) && e.type !== 'SlackMessagePosted') queue.push({ input: e as RouterInput, asInput: true });
      }
    }
  };
  ALIASES.forEach((alias, i) => {
    run(firing(alias, { at: i * 1000, severity: 'warning', labels: { team: 'web' } }), true);
    const incidentId = replayer.state(alias)!.incidentId;
    // The slack-sink's report is on deliveries.v1, which the backtest does not read as an input.
    run(rootPosted(alias, incidentId, rootTs(i), { at: i * 1000 + 500 }), false);
  });
  if (opts.typedAck) {
    run(slackMessage(`${(T0 + 2 * MINUTE) / 1000}.000200`, { at: 2 * MINUTE, text: `${BOT_MENTION} ack`, threadTs: rootTs(0), channel: 'C0ALERTS' }), true);
  }
  return { inputs, outputs };
}

test('the thread links the router wrote for 12 posted roots are not inputs from people', async () => {
  const { inputs, outputs } = recorded({ typedAck: false });
  expect(inputs.filter((i) => i.type === 'SlackThreadLinked')).toHaveLength(12);
  const report = await runBacktest(A, WINDOW, { silences: [], history: [], inputs, actual: outputs });
  expect(report.totals).toMatchObject({ inputs: 12, undecided: 0, changed: 0 });
  expect(report.people).toEqual({ inputs: 0, changed: [] });
  expect(formatBacktest(report, 'rules.yaml')).not.toContain('from people');
});

test('an `ack` typed in a thread counts once, not with the records the router forwarded for it', async () => {
  const { inputs, outputs } = recorded({ typedAck: true });
  // The person's message, then the router's forwards of it: the typed command at the thread's record, the click at the incident's.
  expect(inputs.slice(-3).map((i) => [i.type, i.source])).toEqual([
    ['SlackMessageReceived', 'ingest/slack'],
    ['SlackTextCommandReceived', 'router'],
    ['SlackActionReceived', 'router'],
  ]);
  expect(outputs.filter((e) => e.type === 'IncidentAcknowledged').map((e) => e.alias)).toEqual([ALIASES[0]]);
  const report = await runBacktest(A, WINDOW, { silences: [], history: [], inputs, actual: outputs });
  // Replayed with the forwards, the candidate acknowledges as the router did: nothing changed.
  expect(report.people).toEqual({ inputs: 1, changed: [] });
  expect(formatBacktest(report, 'rules.yaml')).toContain('Inputs from people replayed (Slack and the pager): 1 ·');
});
