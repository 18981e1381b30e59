import { Type } from '@sinclair/typebox';
import { RuleRef } from '../common';

// Field schemas the events of more than one topic are built from.

export const Id = Type.String({ minLength: 1, maxLength: 200 });
export const Timestamp = Type.String({ format: 'date-time' });

/** Set by ingest when it had to clean the input's text so that every part can keep it (Postgres, Slack, the pager). */
export const Sanitised = Type.Integer({
  minimum: 1,
  description:
    'How many characters ingest removed (NUL and other control characters but tab and newline) or replaced with U+FFFD ' +
    '(lone surrogates) in this event\'s text, raw payload and object keys included; absent when none.',
});

/** A Slack message ts ("<unix seconds>.<micros>"); with the channel it is the message's key. */
export const slackTs = (description: string) => Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?$', description });

/** The two fields every incident command carries. */
export const commandBase = { incidentId: Id, rule: RuleRef };
