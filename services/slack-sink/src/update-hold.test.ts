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
});
