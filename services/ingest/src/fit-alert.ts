import { TEXT_LIMITS, boundAlertText, cutJsonStrings, withCuts } from '@alertbus/normalise';
import type { AlertReceived, Envelope, TextCut } from '@alertbus/schemas';

/**
 * The bounds an alert's texts are cut to, one after the other, when its event is over one Kafka record even without
 * raw: halving from about half the description's bound, down to a floor no real alert's text needs to go under.
 */
const SHRINKING_BOUNDS = [8_000, 4_000, 2_000, 1_000, 500, 250, 100] as const;

/** An alert event that fits one record, and its bytes. */
export interface Fitted {
  event: Envelope<'AlertReceived'>;
  value: Buffer;
}

function encode(event: Envelope<'AlertReceived'>): Buffer {
  return Buffer.from(JSON.stringify(event));
}

function withData(event: Envelope<'AlertReceived'>, data: AlertReceived): Envelope<'AlertReceived'> {
  return { ...event, data };
}

/**
 * An alert event over `maxBytes` made to fit, each step only when the one before was not enough: raw with its long
 * strings cut, then raw left out (a note of its size in its place), then the alert's texts cut shorter and shorter.
 * Every step is a function of the event alone, so the same request makes the same event. Undefined when even that
 * is over: what is left (labels, annotation names, links) is the alert's structure, and cannot be cut.
 */
export function fitAlertEvent(event: Envelope<'AlertReceived'>, bytes: number, maxBytes: number): Fitted | undefined {
  const data = event.data;
  const cuts: TextCut[] = data.cut ?? [];
  // The sender's payload is worth keeping for audit: its long strings go first, its structure stays.
  const rawCut = cutJsonStrings(data.raw, TEXT_LIMITS.annotation);
  if (rawCut.removed > 0) {
    const slim = withData(event, withCuts(data, [...cuts, { field: 'raw', characters: rawCut.removed }], rawCut.value));
    const value = encode(slim);
    if (value.length <= maxBytes) return { event: slim, value };
  }
  const rawBytes = Buffer.byteLength(JSON.stringify(data.raw) ?? '');
  const raw = {
    omitted: `the alert as received made this event ${bytes} bytes, over the ${maxBytes} one Kafka record holds; its normalised fields are kept, as \`cut\` says`,
  };
  let slim = withData(event, withCuts(data, [...cuts, { field: 'raw', omittedBytes: Math.max(1, rawBytes) }], raw));
  let value = encode(slim);
  for (const bound of SHRINKING_BOUNDS) {
    if (value.length <= maxBytes) return { event: slim, value };
    const shorter = boundAlertText(slim.data, bound);
    if (shorter === slim.data) continue;
    slim = withData(event, shorter);
    value = encode(slim);
  }
  return value.length <= maxBytes ? { event: slim, value } : undefined;
}
