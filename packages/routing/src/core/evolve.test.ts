import { withChanges } from './evolve';

test('withChanges gives what a spread followed by the changes gives: keys in the same order, values, undefined kept', () => {
  const s = { alias: 'a', status: 'open', count: 1, labels: { team: 'db' }, openedAt: '2025-03-01T10:00:00.000Z' };
  const changes = { count: 2, resolvedAt: '2025-03-01T11:00:00.000Z', status: 'resolved', by: undefined };
  const spread = { ...s, ...changes };
  const made = withChanges<Record<string, unknown>>(s, changes);
  expect(JSON.stringify(made)).toBe(JSON.stringify(spread));
  expect(Object.entries(made)).toEqual(Object.entries(spread));
  expect('by' in made).toBe(true);
  expect(made.labels).toBe(s.labels);
  expect(s.count).toBe(1);
});
