/**
 * prepareRecords skips the walk that makes every string of an event keepable when the recorded JSON cannot hold
 * a character it would change; the projection must be the one the walk gives, whatever the record holds.
 */
import { topicOf, type AnyEnvelope } from '@alertbus/schemas';
import { prepareRecords } from './batch-apply';
import { keepableAsRecorded, project } from './project';
import { opened, received } from './testdata/events';

/** An opened incident whose description is `text`, and an input whose summary is `text`. */
function withText(text: string): AnyEnvelope[] {
  const o = opened();
  const r = received('input-x', 0);
  return [
    { ...o, data: { ...o.data, description: text } },
    { ...r, data: { ...r.data, annotations: { summary: text } } },
  ] as AnyEnvelope[];
}

const TEXTS: Array<[string, string]> = [
  ['plain ASCII', 'error rate above 5% for 10m'],
  ['Latin-1 and other text (U+00A0-U+00FF, CJK, a valid pair)', 'caf\u00e9 \u00a0\u00b0 \u00bf \u8b66\u544a \ud83d\udd25'],
  ['an escaped quote, newline, tab, slash and backslash, which stay', 'say "hi"\nand \\ bye\t. </a>'],
  ['a backslash before text that looks like an escape', 'C:\\u0000\\bin\\r\\\\f'],
  ['NUL, escaped', 'a\u0000b'],
  ['a carriage return and a form feed, escaped', 'a\r\nb\fc'],
  ['DEL, raw in the JSON', 'a\u007fb'],
  ['C1 controls, raw in the JSON', 'a\u0085b\u009fc\u0080d'],
  ['a lone high surrogate, escaped', 'a\ud800b'],
  ['a lone low surrogate, escaped', 'a\udc00b'],
];

async function preparedFrom(event: AnyEnvelope, value: Buffer | string) {
  const [prepared] = await prepareRecords([{ topic: topicOf(event.type), partition: 0, offset: '5', value }]);
  return prepared!;
}

describe('prepareRecords', () => {
  it.each(TEXTS)('projects what the walk over every string gives: %s', async (_, text) => {
    for (const event of withText(text)) {
      const json = JSON.stringify(event);
      const expected = project(JSON.parse(json) as AnyEnvelope, { topic: topicOf(event.type), partition: 0, offset: '5' });
      for (const value of [Buffer.from(json, 'utf8'), json]) {
        const prepared = await preparedFrom(event, value);
        expect(prepared.decoded.ok).toBe(true);
        expect(prepared.projection).toEqual(expected);
      }
    }
  });

  it('projects a key with a control character the way the walk renames it', async () => {
    const r = received('input-x', 0);
    const event = { ...r, data: { ...r.data, labels: { ...r.data.labels, 'a\u0001b': 'x' } } } as AnyEnvelope;
    const json = JSON.stringify(event);
    const prepared = await preparedFrom(event, Buffer.from(json, 'utf8'));
    expect(prepared.projection).toEqual(project(JSON.parse(json) as AnyEnvelope, { topic: topicOf(event.type), partition: 0, offset: '5' }));
    expect(JSON.stringify(prepared.projection!.timeline.data)).not.toContain('\\u0001');
  });
});

describe('keepableAsRecorded', () => {
  it('says yes only for JSON with no escape that keepableText may change, no DEL and no C1 control', () => {
    const yes = ['{"a":"b"}', '{"a":"caf\u00e9 \u00a0 \u00bf \u8b66"}', '{"a":"x\\ny\\t\\"\\/"}'];
    const no = ['{"a":"\\u0000"}', '{"a":"\\b"}', '{"a":"\\f"}', '{"a":"\\r"}', '{"a":"\\\\\\r"}', '{"a":"\u007f"}', '{"a":"\u0085"}', '{"a":"\u009f"}', '{"a":"\u0080"}'];
    for (const s of yes) expect([s, keepableAsRecorded(s), keepableAsRecorded(Buffer.from(s))]).toEqual([s, true, true]);
    for (const s of no) expect([s, keepableAsRecorded(s), keepableAsRecorded(Buffer.from(s))]).toEqual([s, false, false]);
    // An escaped backslash before text that looks like an escape: the bytes are read escape by escape, a string
    // is only matched (a "perhaps").
    expect(keepableAsRecorded(Buffer.from('{"a":"\\\\u0000 \\\\r"}'))).toBe(true);
    // In UTF-8 a pair is one 4-byte character; in a string any surrogate is a "perhaps" (the walk decides).
    expect(keepableAsRecorded(Buffer.from('{"a":"\ud83d\udd25"}'))).toBe(true);
    expect(keepableAsRecorded('{"a":"\ud800"}')).toBe(false);
    expect(keepableAsRecorded(null)).toBe(false);
  });
});
