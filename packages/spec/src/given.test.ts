import { projectionSpec, specFor } from './given';
import { mulberry32, seedOf } from './mulberry32';

/** A counter that may not go below zero: the smallest decider with a refusal. */
type CounterEvent = { type: 'Added'; n: number } | { type: 'Removed'; n: number };
type CounterInput = { add: number } | { remove: number };
const counter = {
  initialState: () => 0,
  evolve: (total: number, e: CounterEvent) => (e.type === 'Added' ? total + e.n : total - e.n),
  decide(input: CounterInput, total: number): CounterEvent[] {
    if ('add' in input) return input.add === 0 ? [] : [{ type: 'Added', n: input.add }];
    if (input.remove > total) throw new RangeError(`only ${total} left`);
    return [{ type: 'Removed', n: input.remove }];
  },
};

describe('specFor', () => {
  const spec = specFor(counter);

  test('the state is the fold of the given events', () => {
    spec.given({ type: 'Added', n: 3 }, { type: 'Removed', n: 1 }).when({ remove: 2 }).then([{ type: 'Removed', n: 2 }]);
    spec.given({ type: 'Added', n: 3 }, { type: 'Removed', n: 1 }).when({ remove: 3 }).thenThrows(/only 2 left/);
  });

  test('then returns the outputs and fails when they differ', () => {
    expect(spec.given().when({ add: 2 }).then([{ type: 'Added', n: 2 }])).toEqual([{ type: 'Added', n: 2 }]);
    expect(() => spec.given().when({ add: 2 }).then([{ type: 'Added', n: 3 }])).toThrow();
  });

  test('thenNothing holds only when nothing is decided', () => {
    spec.given().when({ add: 0 }).thenNothing();
    expect(() => spec.given().when({ add: 1 }).thenNothing()).toThrow();
  });

  test('thenThrows takes a message, a pattern or a class, and fails when the input is accepted', () => {
    spec.given().when({ remove: 1 }).thenThrows(RangeError);
    spec.given().when({ remove: 1 }).thenThrows('only 0 left');
    expect(() => spec.given({ type: 'Added', n: 1 }).when({ remove: 1 }).thenThrows()).toThrow();
  });

  test('check and always replace the comparison and add invariants', () => {
    const seen: number[] = [];
    const loose = specFor(counter, {
      check: (events, types: string[]) => expect(events.map((e) => e.type)).toEqual(types),
      always: (_events, run) => void seen.push(run.state),
    });
    loose.given({ type: 'Added', n: 5 }).when({ remove: 4 }).then(['Removed']);
    expect(seen).toEqual([5]);
  });
});

describe('projectionSpec', () => {
  const rows = projectionSpec({
    initialState: (): Record<string, number> => ({}),
    evolve: (state: Record<string, number>, e: { key: string; delta: number }) => ({ ...state, [e.key]: (state[e.key] ?? 0) + e.delta }),
  });

  test('given events applied, when one more, then the rows', () => {
    rows.given({ key: 'a', delta: 1 }, { key: 'b', delta: 2 }).when({ key: 'a', delta: 5 }).then({ a: 6, b: 2 });
    expect(() => rows.given().when({ key: 'a', delta: 1 }).then({ a: 2 })).toThrow();
  });
});

describe('mulberry32', () => {
  test('the same seed gives the same sequence; another seed another one', () => {
    const take = (r: () => number) => Array.from({ length: 5 }, r);
    expect(take(mulberry32(42))).toEqual(take(mulberry32(42)));
    expect(take(mulberry32(42))).not.toEqual(take(mulberry32(43)));
  });

  test('values are in [0, 1) and the known first values of seed 1 do not drift', () => {
    const values = Array.from({ length: 1000 }, mulberry32(1));
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(values.slice(0, 3).map((v) => v.toFixed(10))).toEqual(FIRST_OF_SEED_1);
  });

  test('seedOf turns a name into a stable 32-bit seed', () => {
    expect(seedOf('quiet-week')).toBe(seedOf('quiet-week'));
    expect(seedOf('quiet-week')).not.toBe(seedOf('busy-week'));
    expect(Number.isInteger(seedOf('x')) && seedOf('x') >= 0 && seedOf('x') < 2 ** 32).toBe(true);
  });
});

/** mulberry32(1)'s first three values, as every earlier copy of the generator produced them. */
const FIRST_OF_SEED_1 = ['0.6270739406', '0.0027357212', '0.5274470400'];
