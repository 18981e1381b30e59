/**
 * Which decided batches may wait to share the next transaction: those that write only state records (a thread link read
 * back), never those with decisions, commands or a thread link for the router itself.
 */
import { builtinRules, decide, type RouterInput } from '@alertbus/routing';
import type { AliasState } from '@alertbus/schemas';
import { rootPosted } from '@alertbus/routing/src/test-support/slack';
import { firing, resolved } from '@alertbus/routing/src/test-support/alerts';
import { batchMayWait } from './may-wait';

const A = 'alertmanager:may-wait-aaaa';
const rules = builtinRules({ defaultChannel: '#alerts', oncallSchedule: 'ops' });

test('an alert waits for nothing: its decisions and commands go at once', () => {
  const opened = decide(firing(A), undefined, rules);
  expect(opened.events.length).toBeGreaterThan(0);
  expect(batchMayWait(opened.events, 0)).toBe(false);
  expect(batchMayWait(decide(resolved(A, { at: 60_000 }), opened.state, rules).events, 0)).toBe(false);
});

test('a posted root goes at once with its thread link; the link read back, which writes only state, may wait', () => {
  const opened = decide(firing(A), undefined, rules).state as AliasState;
  const root = decide(rootPosted(A, opened.incidentId, '1700000000.000500'), opened, rules);
  expect(root.events.map((e) => e.type)).toEqual(['SlackThreadLinked']);
  expect(batchMayWait(root.events, 0)).toBe(false);
  const link = decide(root.events[0] as RouterInput, undefined, rules);
  expect(link.events).toEqual([]);
  expect(link.state).toBeDefined();
  expect(batchMayWait(link.events, 0)).toBe(true);
});

test('a batch that dead-lettered a record goes at once', () => {
  expect(batchMayWait([], 1)).toBe(false);
});
