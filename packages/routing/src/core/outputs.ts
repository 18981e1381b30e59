import { deriveId, makeEnvelope, type AnyEnvelope, type EventData, type EventType } from '@alertbus/schemas';
import { evolve, isIncidentEvent, type DeciderState } from './evolve';

export const ROUTER_SOURCE = 'router';

/** The envelope fields every output copies from the input it was decided from. */
export interface InputRef {
  readonly id: string;
  readonly alias: string;
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly correlationId: string;
}

/**
 * Collects a decision's outputs, each an envelope derived from the input: id from the input id, type and
 * position; the input's times; the input as cause. The alias is the input's unless the output belongs
 * elsewhere (a templated pager alias, a storm summary).
 */
export class Outputs {
  readonly events: AnyEnvelope[] = [];
  /** What `folded` last returned: from which state, over how many of the events. */
  private fold: { from: DeciderState; upTo: number; state: DeciderState } | undefined;
  constructor(private readonly input: InputRef) {}

  /**
   * `state` after the incident events emitted so far. A decision asks for it more than once (the incident it opened,
   * then its final state): each event is folded once, continuing from the last answer for the same state.
   */
  folded(state: DeciderState): DeciderState {
    const f = this.fold !== undefined && this.fold.from === state ? this.fold : { from: state, upTo: 0, state };
    for (; f.upTo < this.events.length; f.upTo++) {
      const e = this.events[f.upTo]!;
      if (isIncidentEvent(e)) f.state = evolve(f.state, e);
    }
    this.fold = f;
    return f.state;
  }

  add<T extends EventType>(type: T, data: EventData<T>, alias: string = this.input.alias): void {
    const { input } = this;
    this.events.push(
      makeEnvelope({
        id: deriveId(input.id, type, this.events.length),
        type,
        alias,
        occurredAt: input.occurredAt,
        recordedAt: input.recordedAt,
        source: ROUTER_SOURCE,
        causationId: input.id,
        correlationId: input.correlationId,
        data,
      }) as AnyEnvelope,
    );
  }

  get last(): AnyEnvelope {
    return this.events[this.events.length - 1]!;
  }
}
