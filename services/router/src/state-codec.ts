import { AliasState, HEADERS, schemaAjv } from '@alertbus/schemas';
import type { OutputMessage } from '@alertbus/kafka';

const validState = schemaAjv.compile(AliasState);

export const STATE_HEADER_TYPE = 'AliasState';

/** A state record for the compacted state topic, on the partition its alias's inputs come from. */
export function stateMessage(state: AliasState, partition: number, timestamp: string): OutputMessage {
  const ts = Date.parse(timestamp);
  return {
    partition,
    key: state.alias,
    value: JSON.stringify(state),
    timestamp: Number.isNaN(ts) ? undefined : String(ts),
    headers: { [HEADERS.eventType]: STATE_HEADER_TYPE },
  };
}

export type DecodedState = { ok: true; state: AliasState } | { ok: false; error: string };

/** Parses and checks a state record's value; a record that fails is skipped on restore, with a warning. */
export function decodeState(value: Buffer): DecodedState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
  if (!validState(parsed)) return { ok: false, error: schemaAjv.errorsText(validState.errors) };
  return { ok: true, state: parsed as AliasState };
}
