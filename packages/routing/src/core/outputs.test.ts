/** Outputs.folded: the state after the incident events so far, each folded once per decision, equal to the plain fold. */
import type { AnyEnvelope } from '@alertbus/schemas';
import { alert } from '../test-support/alerts';
import { evolve, isIncidentEvent, type DeciderState } from './evolve';
import { Outputs } from './outputs';

const input = alert('alertmanager:fold', 'firing', { at: 0 });
const rule = { path: '0', rulesVersion: 'test' };
const plain = (events: readonly AnyEnvelope[], from: DeciderState) => events.filter(isIncidentEvent).reduce<DeciderState>(evolve, from);

function opened(out: Outputs): void {
  const d = input.data;
  out.add('IncidentOpened', {
    incidentId: 'inc-1',
    occurrence: 1,
    title: d.title,
    severity: d.severity,
    source: d.source,
    status: 'open',
    count: 1,
    reason: 'first-notification',
    rule,
    inputId: input.id,
    labels: d.labels,
    links: d.links,
    openedAt: input.recordedAt,
  });
}

test('asked again after more events, it folds those too, from its last answer', () => {
  const out = new Outputs(input);
  expect(out.folded(undefined)).toBeUndefined();
  opened(out);
  const first = out.folded(undefined);
  expect(first).toEqual(plain(out.events, undefined));
  out.add('PostSlackMessage', { incidentId: 'inc-1', rule, channel: '#a', purpose: 'reply', text: 'hi' });
  expect(out.folded(undefined)).toBe(first); // a command changes no state
  out.add('IncidentRepeated', { incidentId: 'inc-1', inputId: 'x', rule, reason: 'duplicate', count: 2, title: 't', severity: 'warning', source: 'alertmanager', status: 'open', occurrence: 1, labels: {}, notified: false } as never);
  out.add('IncidentResolved', { incidentId: 'inc-1', inputId: 'y', rule, reason: 'resolved', count: 2, title: 't', severity: 'warning', source: 'alertmanager', status: 'resolved', occurrence: 1, labels: {}, resolvedAt: input.recordedAt } as never);
  const last = out.folded(undefined);
  expect(last).toEqual(plain(out.events, undefined));
  expect(last).toMatchObject({ status: 'resolved', count: 2, lastInputId: 'y' });
});

test('asked for another starting state, it folds every event again from that state', () => {
  const base = new Outputs(input);
  opened(base);
  const held = base.folded(undefined)!;
  const other = { ...held, incidentId: 'inc-9', count: 9 };
  const out = new Outputs(input);
  out.add('IncidentRepeated', { incidentId: 'inc-1', inputId: 'x', rule, reason: 'duplicate', count: 2, title: 't', severity: 'warning', source: 'alertmanager', status: 'open', occurrence: 1, labels: {}, notified: false } as never);
  expect(out.folded(held)).toMatchObject({ incidentId: 'inc-1', count: 2, lastInputId: 'x' });
  // Another incident's state: the repeat is not its own, so it stays as it was.
  expect(out.folded(other)).toBe(other);
  expect(out.folded(held)).toEqual(plain(out.events, held));
});
