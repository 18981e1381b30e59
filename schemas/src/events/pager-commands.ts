import { Type, type Static } from '@sinclair/typebox';
import { PagerPriority, Responder } from '../common';
import { commandBase } from './shared';

// ---------------------------------------------------------------- pager commands (router → opsgenie-sink)

export const CreatePagerAlert = Type.Object(
  {
    ...commandBase,
    message: Type.String({ minLength: 1, maxLength: 130 }),
    description: Type.Optional(Type.String({ maxLength: 15000 })),
    priority: PagerPriority,
    tags: Type.Array(Type.String({ maxLength: 50 }), { maxItems: 20 }),
    responders: Type.Array(Responder),
    details: Type.Record(Type.String(), Type.String()),
    source: Type.String({ maxLength: 100 }),
    entity: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);
/** A change of an existing pager alert's state, with an optional note and who made it. */
const pagerAlertAction = (description: string) =>
  Type.Object(
    { ...commandBase, note: Type.Optional(Type.String()), user: Type.Optional(Type.String()) },
    { additionalProperties: false, description },
  );

export const ClosePagerAlert = pagerAlertAction('Close the incident\'s pager alert.');
export const AcknowledgePagerAlert = pagerAlertAction('Acknowledge the incident\'s pager alert.');
export const AddPagerNote = Type.Object(
  { ...commandBase, note: Type.String({ minLength: 1, maxLength: 25000 }), user: Type.Optional(Type.String()) },
  { additionalProperties: false },
);

/**
 * Raise the open pager alert's priority: its incident's alert now routes to a higher one (a warning that became
 * critical under the same alias). Opsgenie's create deduplicates by alias and keeps the priority it was created with.
 */
export const UpdatePagerPriority = Type.Object(
  { ...commandBase, priority: PagerPriority, from: Type.Optional(PagerPriority) },
  { additionalProperties: false, description: 'Set the priority of the incident\'s open pager alert.' },
);

export type CreatePagerAlert = Static<typeof CreatePagerAlert>;
export type ClosePagerAlert = Static<typeof ClosePagerAlert>;
export type AcknowledgePagerAlert = Static<typeof AcknowledgePagerAlert>;
export type AddPagerNote = Static<typeof AddPagerNote>;
export type UpdatePagerPriority = Static<typeof UpdatePagerPriority>;
