import { PERSON_NAME_MAX } from '@alertbus/schemas';
import { truncate } from './text';

/**
 * The `byName` of an acknowledgement or resolve: the name the input gave for who acted, trimmed and cut to the schema's
 * bound, so a long name is shortened rather than the decision refused; nothing when the input named nobody.
 */
export function byNameOf(name: string | undefined): { byName?: string } {
  const trimmed = name?.trim();
  return trimmed ? { byName: truncate(trimmed, PERSON_NAME_MAX) } : {};
}
