import type { RouterState } from '../state';
import { ExpiryQueue, expiresAt, liveState } from './expiry';

describe('expiresAt', () => {
  test('a resolve kept for an alias with no incident expires the retention after it was recorded, as a resolved incident does', () => {
    const kept: RouterState = { kind: 'alert-resolved', key: 'alertmanager:x', inputId: 'i', at: '2025-03-01T10:00:00.000Z', endsAt: '2025-03-01T09:59:00.000Z' };
    const at = Date.parse('2025-03-01T10:00:00.000Z');
    expect(expiresAt(kept, 60_000)).toBe(at + 60_000);
    expect(liveState(kept, at + 59_999, 60_000)).toBe(kept);
    expect(liveState(kept, at + 60_000, 60_000)).toBeUndefined();
  });

  test('a templated pager alias does not expire while an incident linked to it is open; once all resolved, the retention after its last change', () => {
    const at = '2025-03-01T10:00:00.000Z';
    const base = { kind: 'pager-alias', key: 'c1', inputId: 'i', at } as const;
    const open: RouterState = { ...base, links: [{ alias: 'a', incidentId: 'ia', linkedAt: at, resolved: true }, { alias: 'b', incidentId: 'ib', linkedAt: at }] };
    expect(expiresAt(open, 60_000)).toBeNull();
    expect(liveState(open, Date.parse(at) + 365 * 86_400_000, 60_000)).toBe(open);
    const over: RouterState = { ...base, links: [{ alias: 'a', incidentId: 'ia', linkedAt: at, resolved: true }] };
    expect(expiresAt(over, 60_000)).toBe(Date.parse(at) + 60_000);
    // Kept by an older alertbus, which never marked a Close in the pager: it expires as it did.
    const older: RouterState = { ...base, links: [{ alias: 'a', incidentId: 'ia' }] };
    expect(expiresAt(older, 60_000)).toBe(Date.parse(at) + 60_000);
  });
});


describe('ExpiryQueue', () => {
  test('pops the keys due at or before a time, earliest first, and keeps the rest', () => {
    const q = new ExpiryQueue();
    let seed = 7;
    const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648);
    const pushed: Array<[string, number]> = [];
    for (let i = 0; i < 1000; i++) {
      // Times in the millions of milliseconds since 1970 and beyond, as event times are; distinct, so the order is known.
      const at = 1_740_000_000_000 + rand() * 1000 + i;
      pushed.push([`k${i}`, at]);
      q.push(`k${i}`, at);
    }
    const byTime = [...pushed].sort((a, b) => a[1] - b[1]);
    const cut = byTime[400]![1];
    expect(q.popDue(cut)).toEqual(byTime.slice(0, 401).map(([k]) => k));
    expect(q.size).toBe(599);
    expect(q.popDue(cut)).toEqual([]);
    expect(q.popDue(Number.POSITIVE_INFINITY)).toEqual(byTime.slice(401).map(([k]) => k));
    expect(q.size).toBe(0);
  });

  test('the same key may be queued more than once (a state that changed); both come out', () => {
    const q = new ExpiryQueue();
    q.push('a', 20);
    q.push('b', 10);
    q.push('a', 5);
    expect(q.popDue(10)).toEqual(['a', 'b']);
    expect(q.popDue(30)).toEqual(['a']);
  });
});
