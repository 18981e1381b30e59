import { decodeOffsetFetchV7, encodeOffsetFetchV7, UNSTABLE_OFFSET_COMMIT } from './stable-offsets';

test('OffsetFetch v7 request: header tags, compact group and topics, partitions, require_stable, body tags', () => {
  const bytes = encodeOffsetFetchV7('g1', [{ topic: 'ab', partitions: [0, 2] }], true);
  expect([...bytes]).toEqual([
    0, // request header's tagged fields
    3, 0x67, 0x31, // "g1", compact: length + 1
    2, // one topic
    3, 0x61, 0x62, // "ab"
    3, 0, 0, 0, 0, 0, 0, 0, 2, // partitions 0 and 2
    0, // topic's tagged fields
    1, // require_stable
    0, // body's tagged fields
  ]);
  // A group id of 200 bytes takes a two-byte length.
  const long = encodeOffsetFetchV7('x'.repeat(200), [], false);
  expect([...long.subarray(0, 3)]).toEqual([0, 0xc9, 0x01]);
  expect(long.length).toBe(1 + 2 + 200 + 1 + 1 + 1);
});

test('OffsetFetch v7 answer: skips tagged fields, reads offsets, nulls and error codes', () => {
  const answer = Buffer.from([
    1, 5, 2, 0xaa, 0xbb, // response header: one tagged field (tag 5, two bytes)
    0, 0, 0, 0, // throttle time
    2, // one topic
    3, 0x61, 0x62, // "ab"
    3, // two partitions
    0, 0, 0, 0, /* offset 7 */ 0, 0, 0, 0, 0, 0, 0, 7, /* leader epoch */ 0xff, 0xff, 0xff, 0xff, /* metadata "" */ 1, /* error */ 0, 0, /* tags */ 0,
    0, 0, 0, 2, /* offset -1 */ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* metadata null */ 0, 0, UNSTABLE_OFFSET_COMMIT, 0,
    0, // topic's tagged fields
    0, 0, // error code
    0, // body's tagged fields
  ]);
  expect(decodeOffsetFetchV7(answer)).toEqual({
    errorCode: 0,
    topics: [
      {
        topic: 'ab',
        partitions: [
          { partition: 0, offset: '7', errorCode: 0 },
          { partition: 2, offset: '-1', errorCode: UNSTABLE_OFFSET_COMMIT },
        ],
      },
    ],
  });
  for (const cut of [3, 12, 14, 30, answer.length - 1]) expect(() => decodeOffsetFetchV7(answer.subarray(0, cut))).toThrow(`OffsetFetch answer ends early (${cut} bytes)`);
});
