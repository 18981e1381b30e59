/**
 * Which decided batches may wait to share the next transaction: those whose outputs nobody waits for (a posted root's
 * thread link and the link's own state), never those with decisions or commands for the sinks.
 */
import { builtinRules, decide, type RouterInput } from '@alertbus/routing';
import type { AliasState, AnyEnvelope } from '@alertbus/schemas';
import { rootPosted } from '@alertbus/routing/src/test-support/slack';
import { firing, resolved } from '@alertbus/routing/src/test-support/alerts';
import { batchMayWait } from './may-wait';

const A = 'alertmanager:may-wait-aaaa';
const rules = builtinRules({ defaultChannel: '#alerts', oncallSchedule: 'ops' });

test('an alert waits for nothing: its decisions and commands go at once', () => {
  const { events } = decide(firing(A), undefined, rules);
  expect(events.length).toBeGreaterThan(0);
  expect(batchMayWait(events, 0)).toBe(false);
  const open = decide(firing(A), undefined, rules).state;
  expect(batchMayWait(decide(resolved(A, { at: 60_000 }), open, rules).events, 0)).toBe(false);
});

test('a posted root and its thread link read back may wait: they write only the link and its state', () => {
  const opened = decide(firing(A), undefined, rules).state as AliasState;
  const root = decide(rootPosted(A, opened.incidentId, '1700000000.000500'), opened, rules);
  expect(root.events.map((e) => e.type)).toEqual(['SlackThreadLinked']);
  expect(batchMayWait(root.events, 0)).toBe(true);
  const link = decide(root.events[0] as RouterInput, undefined, rules);
  expect(link.events).toEqual([]);
  expect(link.state).toBeDefined();
  expect(batchMayWait(link.events, 0)).toBe(true);
  // Both in one batch, as one fetch may bring them.
  expect(batchMayWait([...root.events, ...link.events], 0)).toBe(true);
});

test('a batch that dead-lettered a record, or that carries a decision beside a link, goes at once', () => {
  const opened = decide(firing(A), undefined, rules);
  const root = decide(rootPosted(A, (opened.state as AliasState).incidentId, '1700000000.000500'), opened.state, rules);
  expect(batchMayWait(root.events, 1)).toBe(false);
  expect(batchMayWait([...root.events, ...(opened.events as AnyEnvelope[])], 0)).toBe(false);
});
