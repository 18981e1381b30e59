/**
 * Tests as specifications, in the Emmett style: given(events) when(input) then(outputs).
 * The state is never written by hand: it is the fold of the given events with the decider's own evolve,
 * so a spec also proves that state can be rebuilt from the events.
 */

/** decide(input, state) → outputs; evolve(state, event) → state; initialState(). */
export interface Decider<Input, State, Event, Output = readonly Event[]> {
  decide(input: Input, state: State): Output;
  evolve(state: State, event: Event): State;
  initialState(): State;
}

/** A projection applies an event to its state (rows, counts…): a decider whose input is an event and whose output is the new state. */
export interface Projection<State, Event> {
  evolve(state: State, event: Event): State;
  initialState(): State;
}

/** What a case ran: the given events, the state folded from them, and the input. */
export interface Run<Input, State, Event> {
  given: readonly Event[];
  state: State;
  input: Input;
}

export interface SpecOptions<Input, State, Event, Output, Expected> {
  /** How then(expected) compares; by default the outputs must equal the expected value. */
  check?: (outputs: Output, expected: Expected, run: Run<Input, State, Event>) => void;
  /** What every decision must hold whatever the case (outputs fit their schema, ids derive from the input…). */
  always?: (outputs: Output, run: Run<Input, State, Event>) => void;
  /** The expected value that means "nothing happened", for thenNothing(); by default []. */
  nothing?: Expected;
}

export interface Then<Output, Expected> {
  /** Checks the outputs against the expected ones and returns them for any further assertion. */
  then(expected: Expected): Output;
  /** The input changes nothing: no outputs. */
  thenNothing(): Output;
  /** The decider refuses the input: it throws (an error matching the message, pattern or class when given). */
  thenThrows(error?: string | RegExp | (new (...args: never[]) => Error)): void;
}

export interface When<Input, Output, Expected> {
  when(input: Input): Then<Output, Expected>;
}

export interface Spec<Input, Event, Output, Expected> {
  given(...events: Event[]): When<Input, Output, Expected>;
}

/** A given/when/then over one decider; options say how outputs are compared and what every case must hold. */
export function specFor<Input, State, Event, Output, Expected = Output>(
  decider: Decider<Input, State, Event, Output>,
  options: SpecOptions<Input, State, Event, Output, Expected> = {},
): Spec<Input, Event, Output, Expected> {
  const check = options.check ?? ((outputs: Output, expected: Expected) => expect(outputs).toEqual(expected));
  return {
    given(...events) {
      return {
        when(input) {
          const state = events.reduce((s, e) => decider.evolve(s, e), decider.initialState());
          const run: Run<Input, State, Event> = { given: events, state, input };
          const decided = (): Output => {
            const outputs = decider.decide(input, state);
            options.always?.(outputs, run);
            return outputs;
          };
          return {
            then(expected) {
              const outputs = decided();
              check(outputs, expected, run);
              return outputs;
            },
            thenNothing() {
              const outputs = decided();
              check(outputs, options.nothing ?? ([] as unknown as Expected), run);
              return outputs;
            },
            thenThrows(error) {
              if (error === undefined) expect(() => decider.decide(input, state)).toThrow();
              else expect(() => decider.decide(input, state)).toThrow(error);
            },
          };
        },
      };
    },
  };
}

/** given(events applied) when(event) then(state): a projection read as a specification. */
export function projectionSpec<State, Event, Expected = State>(
  projection: Projection<State, Event>,
  options: SpecOptions<Event, State, Event, State, Expected> = {},
): Spec<Event, Event, State, Expected> {
  return specFor<Event, State, Event, State, Expected>(
    { decide: (event, state) => projection.evolve(state, event), evolve: projection.evolve, initialState: projection.initialState },
    options,
  );
}
