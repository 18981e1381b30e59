import { PAGER_LIMITS, pagerDetails } from './pager';

const jsonLength = (d: Record<string, string>) => [...JSON.stringify(d)].length;

describe('pagerDetails: the details fit Opsgenie 8000 characters however it counts them', () => {
  test('90 ordinary labels: the details as sent (JSON) stay within the limit, the first labels kept', () => {
    const labels = Object.fromEntries(Array.from({ length: 90 }, (_, i) => [`label_${String(i).padStart(2, '0')}`, 'x'.repeat(80)]));
    const d = pagerDetails(labels, { alertbus_incident: 'inc-1', alertbus_source: 'alertmanager' });
    expect(jsonLength(d)).toBeLessThanOrEqual(PAGER_LIMITS.detailsTotal);
    expect(Object.keys(d).slice(0, 3)).toEqual(['alertbus_incident', 'alertbus_source', 'label_00']);
    // As many as fit: one more would go past the limit.
    expect(Object.keys(d).length).toBeGreaterThan(80);
    expect(Object.keys(d).length).toBeLessThan(92);
  });

  test('escapes count as sent: values full of quotes and newlines', () => {
    const labels = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`q${i}`, '"\n'.repeat(40)]));
    expect(jsonLength(pagerDetails(labels, {}))).toBeLessThanOrEqual(PAGER_LIMITS.detailsTotal);
  });

  test('labels named like Object.prototype members are kept, not taken as present', () => {
    expect(pagerDetails({ constructor: 'a', toString: 'b' }, {})).toEqual({ constructor: 'a', toString: 'b' });
  });

  test('an entry too large alone is left out, the rest kept', () => {
    expect(pagerDetails({ a: 'x'.repeat(9000), b: 'y' }, {})).toEqual({ b: 'y' });
  });
});
