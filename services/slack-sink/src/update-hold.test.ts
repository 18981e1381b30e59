import { UpdateHold } from './update-hold';

describe('UpdateHold', () => {
  it('lets a message\'s first update go at once, and holds the next for what is left of the hold', () => {
    let now = 10_000;
    const hold = new UpdateHold(1_000, () => now);
    expect(hold.remaining('T/summary')).toBe(0);
    hold.sent('T/summary');
    now += 300;
    expect(hold.remaining('T/summary')).toBe(700);
    expect(hold.remaining('T/other')).toBe(0);
    now += 700;
    expect(hold.remaining('T/summary')).toBe(0);
  });

  it('forgets messages whose hold is over once it keeps many, and still holds the recent ones', () => {
    let now = 0;
    const hold = new UpdateHold(1_000, () => now);
    for (let i = 0; i < 1_024; i++) hold.sent(`old-${i}`);
    now = 5_000;
    hold.sent('recent');
    now = 5_500;
    hold.sent('newest');
    expect((hold as unknown as { last: Map<string, number> }).last.size).toBe(2);
    expect(hold.remaining('recent')).toBe(500);
    expect(hold.remaining('old-1')).toBe(0);
  });

  it('sweeps again only once the map has doubled when most entries are still held, and still forgets the old ones', () => {
    let now = 0;
    const hold = new UpdateHold(1_000, () => now);
    /** Counts the sweeps (each walks the whole map). */
    class Walked<K, V> extends Map<K, V> {
      walks = 0;
      override [Symbol.iterator](): MapIterator<[K, V]> {
        this.walks += 1;
        return super[Symbol.iterator]();
      }
    }
    const last = new Walked<string, number>();
    (hold as unknown as { last: Map<string, number> }).last = last;
    const size = () => last.size;
    for (let i = 0; i < 1_500; i++) hold.sent(`live-${i}`); // all within the hold: the sweep at 1,024 keeps them
    expect(size()).toBe(1_500);
    expect(last.walks).toBe(1); // not one walk of 1,000+ entries per update from there on
    expect(hold.remaining('live-0')).toBe(1_000);
    now = 2_000; // every one of them is over its hold now
    for (let i = 0; i < 549; i++) hold.sent(`next-${i}`); // the call that finds 2,048 sweeps the 1,500
    expect(size()).toBeLessThan(600);
    expect(hold.remaining('live-0')).toBe(0);
    expect(hold.remaining('next-0')).toBe(1_000);
  });
});
