import { Type } from '@sinclair/typebox';
import { AnyKey } from '@alertbus/schemas';

/** Label and annotation maps: name → string value, as every monitoring source sends them, whatever the name holds. */
export const StringMap = Type.Record(AnyKey, Type.String());

/** An enum (not a union of literals) so a wrong value is reported as "must be equal to one of the allowed values". */
export const AlertStatusField = Type.Unsafe<'firing' | 'resolved'>({ type: 'string', enum: ['firing', 'resolved'] });
