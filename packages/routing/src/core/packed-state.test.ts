import { decide } from '../decider';
import { builtinRules } from '../rules/compile';
import type { RouterState } from '../state';
import { firing, MINUTE, resolved } from '../test-support/alerts';
import { packState, unpackState } from './packed-state';

const incident = (i: number) =>
  ({
    alias: `alertmanager:host-${i}`,
    incidentId: '5b26c9d0-2053-8141-beaf-6d4a82d49d52',
    occurrence: 1,
    status: 'open',
    count: 3,
    title: `Disk almost full on host-${i} 🔥 <&>`,
    severity: 'warning',
    source: 'alertmanager',
    labels: { alertname: 'DiskFull', instance: `host-${i}:9100`, '': 'empty name', team: '' },
    links: [{ title: 'Source', url: `http://prometheus:9090/graph?host=${i}` }],
    openedAt: '2025-03-01T10:00:00.000Z',
    lastSeenAt: '2025-03-01T10:00:00.000Z',
    lastNotifiedAt: '2025-03-01T10:00:00Z',
    slackChannel: '#alerts',
    paged: true,
    rule: { path: 'defaults', rulesVersion: '66db8f158870df796e57554d6c48d8da532492659acedf812eb4d07fa6cb029e' },
    lastInputId: 'CA40F34C-EA37-8DE9-82E4-1AC0ECE5D217',
    storm: { id: 'a69d17a3-0cfd-89fb-ba3d-272a6baf86aa', channel: '#alerts', since: '2025-03-01T10:00:00.030Z', threshold: 30, window: '1m', pageGrouped: true },
    odd: [1.5, -2, 0, null, 'alertmanager:host-1', 2 ** 60],
  }) as unknown as RouterState;

describe('packed router states', () => {
  it('unpack to the same JSON, key order included, whether their strings were numbered yet or not', () => {
    for (let i = 0; i < 5; i++) {
      const s = incident(i % 2);
      const key = (s as { alias: string }).alias;
      const packed = packState(s, key);
      expect(JSON.stringify(unpackState(packed, key))).toBe(JSON.stringify(s));
    }
  });

  it('are smaller than the JSON, and one-byte strings when the state text is', () => {
    const s = { ...(incident(7) as object), title: 'Disk almost full on host-7' } as RouterState;
    const packed = packState(s, 'alertmanager:host-7');
    expect(packed.length).toBeLessThan(JSON.stringify(s).length / 2);
    expect([...packed].every((c) => c.charCodeAt(0) < 256)).toBe(true);
  });

  it('keeps Slack records and an alias that is not the key', () => {
    const s = { kind: 'thread', key: 'slack:T1:C1:1700000000.000100', alias: 'slack:T1:C1:1700000000.000100', at: '2025-03-01T10:00:00.000Z' } as unknown as RouterState;
    expect(unpackState(packState(s, 'other'), 'other')).toEqual(s);
    expect(unpackState(packState(s, 'slack:T1:C1:1700000000.000100'), 'slack:T1:C1:1700000000.000100')).toEqual(s);
  });

  it.each([
    ['an instant', '2024-02-29T23:59:59.999Z'],
    ['the epoch', '1970-01-01T00:00:00.000Z'],
    ['before the epoch', '1969-12-31T23:59:59.999Z'],
    ['the 29th of February of a common year', '2023-02-29T00:00:00.000Z'],
    ['the 29th of February of 1900', '1900-02-29T00:00:00.000Z'],
    ['the 31st of April', '2026-04-31T00:00:00.000Z'],
    ['hour 24', '2026-12-01T24:00:00.000Z'],
    ['minute 60', '2026-12-01T07:60:00.000Z'],
    ['month 13', '2026-13-01T00:00:00.000Z'],
    ['a space for the T', '2026-12-01 07:24:29.123Z'],
    ['a UUID', '5b26c9d0-2053-8141-beaf-6d4a82d49d52'],
    ['a UUID in capitals', '5B26C9D0-2053-8141-BEAF-6D4A82D49D52'],
    ['a UUID with a dash moved', '5b26c9d-02053-8141-beaf-6d4a82d49d52'],
    ['a UUID with a g', '5b26c9d0-2053-8141-beaf-6d4a82d49d5g'],
  ])('give back %s exactly, in every field', (_what, text) => {
    // Each value in several places: as the first of the state's strings, as one seen earlier in it, and once numbered.
    for (let i = 0; i < 3; i++) {
      const s = { alias: 'a', openedAt: text, labels: { at: text }, list: [text, `${text}x`] } as unknown as RouterState;
      expect(JSON.stringify(unpackState(packState(s, 'a'), 'a'))).toBe(JSON.stringify(s));
    }
  });

  it('hold an instant and a UUID in fewer characters than their text', () => {
    const at = (s: unknown) => packState({ alias: 'a', x: s } as unknown as RouterState, 'a').length;
    expect(at('2024-02-29T23:59:59.999Z')).toBeLessThan(at('2024-02-29 23:59:59.999Z'));
    expect(at('5b26c9d0-2053-8141-beaf-6d4a82d49d52')).toBeLessThan(at('5b26c9d0+2053-8141-beaf-6d4a82d49d52'));
  });
});

describe("a sender's end of occurrence", () => {
  const A = 'alertmanager:packed-end';
  const S1 = '2025-03-01T09:58:00Z';
  const E1 = '2025-03-01T10:04:00Z';
  const roundTrip = (s: RouterState) => JSON.stringify(unpackState(packState(s, A), A));

  it('a resolved incident keeps it through packing, in a few bytes', () => {
    const opened = decide(firing(A, { startsAt: S1 }), undefined, builtinRules({ defaultChannel: '#alerts' })).state!;
    const closed = decide(resolved(A, { at: 5 * MINUTE, startsAt: S1, endsAt: E1 }), opened, builtinRules({ defaultChannel: '#alerts' })).state!;
    expect(closed).toHaveProperty('endsAt', '2025-03-01T10:04:00.000Z');
    expect(roundTrip(closed)).toBe(JSON.stringify(closed));
    const { endsAt: _, ...without } = closed as { endsAt: string };
    expect(packState(closed, A).length - packState(without as RouterState, A).length).toBeLessThanOrEqual(10);
  });

  it("the resolve kept for an alias with no incident packs to a few dozen bytes", () => {
    const kept = decide(resolved(A, { startsAt: S1, endsAt: E1 }), undefined, builtinRules({ defaultChannel: '#alerts' })).state!;
    expect(kept).toMatchObject({ kind: 'alert-resolved', endsAt: '2025-03-01T10:04:00.000Z' });
    expect(roundTrip(kept)).toBe(JSON.stringify(kept));
    expect(packState(kept, A).length).toBeLessThanOrEqual(64);
  });
});

describe('numbering strings seen twice', () => {
  it('numbers each at its second sighting, through tens of thousands of them, and unpacks them the same', () => {
    // More numberings than the seen-once table has slots: each leaves a removed mark there, which must be cleared.
    const n = 70_000;
    const state = (i: number) => ({ alias: 'k', title: `numbered-${i.toString(36)}` }) as unknown as RouterState;
    const wrong: number[] = [];
    for (let i = 0; i < n; i++) {
      const first = packState(state(i), 'k');
      const second = packState(state(i), 'k');
      const third = packState(state(i), 'k');
      if (!(second.length < first.length) || third !== second || unpackState<RouterState & { title: string }>(second, 'k').title !== `numbered-${i.toString(36)}`) wrong.push(i);
    }
    expect(wrong).toEqual([]);
    // The first ones keep their numbers.
    expect(unpackState(packState(state(0), 'k'), 'k')).toEqual(state(0));
    expect(packState(state(0), 'k').length).toBeLessThan(packState({ alias: 'k', title: 'never-seen-before' } as unknown as RouterState, 'k').length);
  });
});
