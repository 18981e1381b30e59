/**
 * `npm run bench:record-codec`: two per-record costs of reading and projecting, each beside the code it replaced, in
 * one process (no broker, no database; the process's own CPU, user + system):
 * - a fetched record set decoded by KafkaJS 2.2's decoder and by `decodeRecordBatches` (`@alertbus/kafka`): 80
 *   transactional batches of 40 records, 1.2 kB values and three headers each (4.2 MB, as a fetch brings them);
 * - the COPY text of timeline-like rows by `copyText` (`@alertbus/projection`) and by the regex form it replaced
 *   (kept below as the reference only): 2,000 rows of 17 values, half with a 1.3 kB JSON value holding quotes and
 *   newlines, half with one holding none.
 * BENCH_CODEC_ROUNDS rounds (default 5); the first warms up and is printed too.
 */
import { createRequire } from 'node:module';
import { decodeRecordBatches } from '@alertbus/kafka';
import { copyText } from '@alertbus/projection';

const ROUNDS = Number(process.env.BENCH_CODEC_ROUNDS ?? 5);
const kafkajs = createRequire(require.resolve('kafkajs'));
type Long = object;
const Long = kafkajs('./src/utils/long') as { fromValue(v: unknown): Long; fromInt(v: number): Long };
const { RecordBatch } = kafkajs('./src/protocol/recordBatch/v0') as { RecordBatch: (args: Record<string, unknown>) => Promise<{ buffer: Buffer }> };
const Record = kafkajs('./src/protocol/recordBatch/record/v0') as (args: Record<string, unknown>) => unknown;
const Decoder = kafkajs('./src/protocol/decoder') as new (b: Buffer) => unknown;
const kafkajsDecode = kafkajs('./src/protocol/requests/fetch/v4/decodeMessages') as (d: unknown) => Promise<unknown[]>;

/** The COPY text as it was made before: a character-class regex test, then a replacement calling back per match. */
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const regexField = (v: unknown): string => {
  if (v === null || v === undefined) return '\\N';
  const s = String(v);
  return /[\\\t\n\r]/.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!) : s;
};
/** copyText's own loop (values joined by tab, a row by newline, UTF-8 pieces of ~64k characters) over regexField. */
function regexCopyText(rows: ReadonlyArray<readonly unknown[]>): Buffer[] {
  const pieces: Buffer[] = [];
  let text = '';
  for (const row of rows) {
    text += regexField(row[0]);
    for (let j = 1; j < row.length; j++) text += '\t' + regexField(row[j]);
    text += '\n';
    if (text.length >= 64 * 1024) {
      pieces.push(Buffer.from(text, 'utf8'));
      text = '';
    }
  }
  if (text.length > 0) pieces.push(Buffer.from(text, 'utf8'));
  return pieces;
}

/** CPU microseconds of `f`, run `times` times. */
async function cpu(times: number, f: () => unknown): Promise<number> {
  const t0 = process.cpuUsage();
  for (let i = 0; i < times; i++) await f();
  const used = process.cpuUsage(t0);
  return used.user + used.system;
}

async function main(): Promise<void> {
  const value = Buffer.from(JSON.stringify({ id: 'e'.repeat(36), type: 'alert.fired', data: { labels: { instance: 'i'.repeat(800) } } }).padEnd(1200, ' '));
  const batches: Buffer[] = [];
  for (let b = 0; b < 80; b++) {
    const records = Array.from({ length: 40 }, (_, i) =>
      Record({ offsetDelta: i, timestampDelta: Long.fromInt(i), key: Buffer.from(`fp-${b}-${i}`), value, headers: { 'event-type': Buffer.from('alert.fired'), 'event-id': Buffer.from(`${b}-${i}`.padEnd(36, '0')), 'schema-version': Buffer.from('1') } }),
    );
    batches.push((await RecordBatch({ firstOffset: Long.fromValue(1_000_000 + 40 * b), firstTimestamp: 1_764_000_000_000, maxTimestamp: 1_764_000_000_100, lastOffsetDelta: 39, transactional: true, producerId: Long.fromValue(77), records })).buffer);
  }
  const bytes = Buffer.concat(batches);
  const set = Buffer.alloc(4 + bytes.length);
  set.writeInt32BE(bytes.length);
  bytes.copy(set, 4);
  const perSet = decodeRecordBatches(bytes).length;

  const quoted = JSON.stringify({ labels: { alertname: 'HighLatency', service: 'checkout' }, annotations: { summary: 'p99 "latency" above 2s', description: 'line one\nline two "quoted" and more text '.repeat(8) } });
  const plain = JSON.stringify({ labels: { alertname: 'HighLatency', service: 'checkout', instance: 'x'.repeat(600) }, annotations: { summary: 'p99 latency above 2s', description: 'y'.repeat(500) } });
  const row = (data: string) => ['3f1c2a9e-1b2c-4d5e-8f90-123456789abc', 'inc-3f1c2a9e', 'fp:abc123', 'alert.fired', 'alertbus.alerts', 3, '123456', '2026-12-04T14:00:00.000Z', '2026-12-04T14:00:00.001Z', 'alertmanager', null, 'c0ffee', null, null, data, null, 'ingest'];
  const rows = Array.from({ length: 2_000 }, (_, i) => row(i % 2 ? quoted : plain));
  if (!Buffer.concat(copyText(rows)).equals(Buffer.concat(regexCopyText(rows)))) throw new Error('copyText and the regex form wrote different bytes');

  console.log(`# record codec — ${new Date().toISOString()}: ${perSet} records in ${(bytes.length / 1e6).toFixed(1)} MB; ${rows.length} COPY rows`);
  for (let round = 1; round <= ROUNDS; round++) {
    const theirs = (await cpu(60, () => kafkajsDecode(new Decoder(set)))) / (60 * perSet);
    const ours = (await cpu(60, () => decodeRecordBatches(bytes))) / (60 * perSet);
    const before = ((await cpu(100, () => regexCopyText(rows))) * 1000) / (100 * rows.length);
    const after = ((await cpu(100, () => copyText(rows))) * 1000) / (100 * rows.length);
    console.log(
      `round ${round}${round === 1 ? ' (warm-up)' : ''}: fetched record, KafkaJS ${theirs.toFixed(2)} µs · one pass ${ours.toFixed(2)} µs (ratio ${(ours / theirs).toFixed(2)}); ` +
        `COPY row, regex ${before.toFixed(0)} ns · includes ${after.toFixed(0)} ns (ratio ${(after / before).toFixed(2)})`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
