import { AliasState, HEADERS, jsonErrorWithoutExcerpt, readTolerantly, reportIgnored, schemaAjv, SlackKeyState } from '@alertbus/schemas';
import type { OutputMessage } from '@alertbus/kafka';
import { isIncidentState, stateKey, type RouterState } from '@alertbus/routing';

const validState = schemaAjv.compile(AliasState);
const validKeyState = schemaAjv.compile(SlackKeyState);

export const STATE_HEADER_TYPE = 'AliasState';
export const KEY_STATE_HEADER_TYPE = 'SlackKeyState';

/**
 * A state record for the compacted state topic, on the partition its key's inputs come from; `value` is the
 * state's JSON (or its UTF-8 bytes) when the caller already made it.
 */
export function stateMessage(state: RouterState, partition: number, timestamp: string, value: string | Buffer = JSON.stringify(state)): OutputMessage {
  const ts = Date.parse(timestamp);
  return {
    partition,
    key: stateKey(state),
    value,
    timestamp: Number.isNaN(ts) ? undefined : String(ts),
    headers: { [HEADERS.eventType]: isIncidentState(state) ? STATE_HEADER_TYPE : KEY_STATE_HEADER_TYPE },
  };
}

export type DecodedState = { ok: true; state: RouterState; ignored?: string[] } | { ok: false; error: string };

/**
 * Parses and checks a state record's value: an incident (AliasState) or, when it has a `kind`, a Slack
 * record (SlackKeyState). Properties the schema does not know, written by a newer router before a rollback, are left
 * out (`ignored`), so the incident is not forgotten and paged again. A record that fails otherwise is skipped on
 * restore, with a warning.
 */
export function decodeState(value: Buffer): DecodedState {
  let parsed: unknown;
  const text = value.toString('utf8');
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not JSON: ${jsonErrorWithoutExcerpt((err as Error).message, text)}` };
  }
  const isKeyState = typeof parsed === 'object' && parsed !== null && 'kind' in parsed;
  const validate = isKeyState ? validKeyState : validState;
  if (validate(parsed)) return { ok: true, state: parsed as RouterState };
  const error = schemaAjv.errorsText(validate.errors);
  const read = readTolerantly(isKeyState ? SlackKeyState : AliasState, parsed);
  if (!read.ok) return { ok: false, error };
  reportIgnored(isKeyState ? `router state (${String((parsed as { kind: unknown }).kind)})` : 'router state (incident)', read.ignored);
  return { ok: true, state: read.value as RouterState, ignored: read.ignored };
}
