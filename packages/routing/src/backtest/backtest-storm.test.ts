/** A storm's summary and page belong to the storm, not to its first gathered member, on both sides of a backtest. */
import { readFileSync } from 'node:fs';
import type { AnyEnvelope, Envelope } from '@alertbus/schemas';
import { Replayer } from '../core/replay';
import { compileRules } from '../rules/compile';
import { firing, HOUR, T0 } from '../test-support/alerts';
import { rulesFrom, testdataPath } from '../test-support/scenario';
import { runBacktest } from './backtest';

// Above 3 new incidents within 10 minutes in a channel, further ones are gathered and page through the storm's page.
const A = rulesFrom('rules.storm-pages.yaml');
// The candidate raises the threshold: no storm, every incident its own thread and page.
const calm = compileRules(readFileSync(testdataPath('rules.storm-pages.yaml'), 'utf8').replace('threshold: 3', 'threshold: 10'), 'calm.yaml', { defaultChannel: '#alerts' });
if (!calm.ok) throw new Error(calm.message);
const B = calm.rules;

const iso = (ms: number) => new Date(T0 + ms).toISOString();
const window = [1, 2, 3, 4, 5, 6].map((n) => firing(`am:n${n}`, { at: n * 1_000, labels: { team: 'web' }, severity: 'warning' }));

function routedWith(inputs: Envelope<'AlertReceived'>[]): AnyEnvelope[] {
  const replayer = new Replayer(A);
  return inputs.flatMap((i) => replayer.decide(i).events);
}

test('every member gathered into the summary differs alike, and the summary and page show as the storm', async () => {
  const actual = routedWith(window);
  const report = await runBacktest(B, { from: iso(0), to: iso(HOUR) }, { silences: [], history: [], inputs: window, actual });

  const members = report.changes.filter((c) => c.alias.startsWith('am:'));
  expect(members.map((c) => c.alias)).toEqual(['am:n4', 'am:n5', 'am:n6']);
  for (const m of members) {
    // Paged either way: through the storm's page, then through its own; the summary is not this member's message.
    expect(m.actual).toEqual({ channel: '#alerts (storm summary)', priority: 'P3', paged: true, suppressed: ['storm-control'], messages: {} });
    expect(m.candidate).toEqual({ channel: '#alerts', priority: 'P3', paged: true, suppressed: [], messages: { '#alerts': 1 } });
  }
  const storm = report.changes.filter((c) => c.alias.startsWith('storm:'));
  expect(storm).toHaveLength(1);
  expect(storm[0]).toMatchObject({
    actual: { channel: '#alerts (storm summary)', priority: 'P3', paged: true, suppressed: [], messages: { '#alerts': 1 } },
    candidate: { channel: null, priority: null, paged: false, suppressed: [], messages: {} },
    differences: ['channel', 'priority', 'paged', 'messages'],
  });
});
