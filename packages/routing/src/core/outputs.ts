import { deriveId, makeEnvelope, type AnyEnvelope, type EventData, type EventType } from '@alertbus/schemas';

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
  constructor(private readonly input: InputRef) {}

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
