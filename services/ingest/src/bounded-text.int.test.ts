/**
 * An over-long alert is still an alert: its text is cut to a bound and the cut said, its group is accepted whole,
 * and only an alert whose structure alone is over one Kafka record is refused, without losing the rest of its group.
 * Real Kafka; the base payload is the real Alertmanager fixture.
 */
import { TOPICS, type Envelope } from '@alertbus/schemas';
import { readTopic } from '../../../test/support/kafka';
import { fixtureText } from '../../../test/support/fixtures';
import { request, type Target } from './test-support/http';
import { endOffsets as kafkaEndOffsets, recordsBetween } from './test-support/offsets';
import { ingestRig } from './test-support/rig';
import { settled } from './test-support/retry';

const rig = ingestRig('ingest-bounded-text-test');

const post = (app: Target, payload: string) => request(app, 'POST', '/webhooks/alertmanager', payload, { 'content-type': 'application/json' });
const endOffsets = () => kafkaEndOffsets(rig.kafka);

interface AmAlert {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  fingerprint: string;
  [field: string]: unknown;
}

/** The real two-alert group, each alert with a fingerprint of this run, so its records can be told from earlier runs'. */
function group(run: string): { alerts: AmAlert[]; [field: string]: unknown } {
  const g = JSON.parse(fixtureText('alertmanager/zulip_firing_two_alerts.json')) as { alerts: AmAlert[] };
  g.alerts.forEach((a, i) => (a.fingerprint = `${run}-${i}`));
  return g;
}

const runId = () => `bt${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** The records of the events a 202 (or the records a partial 413) named, decoded and valid, in request order. */
async function recordsOf(ids: readonly string[]) {
  const records = await settled(() => readTopic(rig.kafka, TOPICS.alertsReceived));
  return ids.map((id) => {
    const r = records.find((x) => x.event?.id === id);
    if (!r) throw new Error(`no valid AlertReceived with id ${id} on ${TOPICS.alertsReceived}`);
    return { value: r.value!, event: r.event as Envelope<'AlertReceived'> };
  });
}

/** A string with no half of a surrogate pair: what UTF-8 can hold, so Postgres, Slack and the pager can. */
const wellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

const MARK = /…\[cut: [0-9]{1,3}(,[0-9]{3})* characters\]$/;

/** What a cut to `max` characters takes off a text of `total`: room is made for the mark of the longest possible cut. */
const removedOf = (total: number, max: number) => total - (max - `…[cut: ${total.toLocaleString('en-US')} characters]`.length);

test("the review's request: a critical alert and a warning with a 520,000-character description → 202, both recorded, the long text cut and said", async () => {
  const app = await rig.app();
  const run = runId();
  const g = group(run);
  const long = 'The stack trace follows. '.repeat(20_800); // 520,000 characters
  g.alerts[1]!.labels.severity = 'warning';
  g.alerts[1]!.annotations.description = long;
  const sent = JSON.stringify(g);
  expect(sent.length).toBeGreaterThan(520_000);

  const res = await post(app, sent);
  expect(res.statusCode).toBe(202);
  const body = res.json() as { accepted: number; ids: string[]; aliases: string[] };
  expect(body).toMatchObject({ accepted: 2, aliases: [`alertmanager:${run}-0`, `alertmanager:${run}-1`] });

  const [critical, warning] = await recordsOf(body.ids);
  // The critical alert is as it always was: nothing cut, nothing said.
  expect(critical!.event.data).toMatchObject({ severity: 'critical', title: 'High CPU core temperature', description: 'CPU core temperature is 34.75C' });
  expect(critical!.event.data.cut).toBeUndefined();
  expect(critical!.event.data.annotations).toEqual(g.alerts[0]!.annotations);

  const d = warning!.event.data;
  expect(d.severity).toBe('warning');
  expect(d.title).toBe('High CPU core temperature');
  expect(d.description).toMatch(MARK);
  expect(Array.from(d.description!)).toHaveLength(15_000);
  expect(long.startsWith(d.description!.replace(MARK, ''))).toBe(true);
  expect(d.annotations.description).toBe(d.description);
  expect(d.annotations.topic).toBe('andromeda');
  const removed = removedOf(520_000, 15_000);
  expect(d.description!.endsWith(`…[cut: ${removed.toLocaleString('en-US')} characters]`)).toBe(true);
  expect(d.cut).toEqual([
    { field: 'description', characters: removed },
    { field: 'annotations.description', characters: removed },
  ]);
  // The sender's payload still fits beside the cut fields: kept whole for audit.
  expect((d.raw as AmAlert).annotations.description).toBe(long);
  expect(warning!.value.length).toBeLessThan(1_000_000);
});

test('an alert with eighty long annotations (1 MB under the default body limit) → 202: raw left out, every annotation cut and said', async () => {
  const app = await rig.app();
  const run = runId();
  const g = group(run);
  const annotations: Record<string, string> = { summary: 'Disk full on andromeda' };
  for (let i = 0; i < 80; i++) annotations[`note_${String(i).padStart(2, '0')}`] = `${i} `.padEnd(12_500, 'x');
  g.alerts[1]!.annotations = annotations;
  const sent = JSON.stringify(g);
  expect(sent.length).toBeGreaterThan(1_000_000);
  expect(sent.length).toBeLessThan(1024 * 1024);

  const res = await post(app, sent);
  expect(res.statusCode).toBe(202);
  const { ids } = res.json() as { ids: string[] };
  const [first, second] = await recordsOf(ids);
  expect(first!.event.data.cut).toBeUndefined();
  expect(first!.event.data.description).toBe('CPU core temperature is 34.75C');

  const d = second!.event.data;
  expect(second!.value.length).toBeLessThanOrEqual(1_000_000);
  expect(d.title).toBe('Disk full on andromeda');
  expect(d.annotations.summary).toBe('Disk full on andromeda');
  expect(Object.keys(d.annotations)).toEqual(Object.keys(annotations));
  for (let i = 0; i < 80; i++) {
    const key = `note_${String(i).padStart(2, '0')}`;
    const value = d.annotations[key]!;
    expect(value).toMatch(MARK);
    expect(value.length).toBeLessThan(12_500);
    expect(annotations[key]!.startsWith(value.replace(MARK, ''))).toBe(true);
  }
  expect(d.raw).toEqual({ omitted: expect.stringMatching(/^the alert as received made this event \d+ bytes, over the 1000000 one Kafka record holds/) });
  const fields = (d.cut ?? []).map((c) => c.field);
  expect(fields).toContain('raw');
  expect(fields.filter((f) => f.startsWith('annotations.note_'))).toHaveLength(80);
  expect(d.cut!.find((c) => c.field === 'raw')).toEqual({ field: 'raw', omittedBytes: expect.any(Number) });
  expect(d.cut!.find((c) => c.field === 'raw')!.omittedBytes).toBeGreaterThan(1_000_000);
});

test('a cut inside a run of emoji keeps whole characters: the record is valid UTF-8 and the text well formed', async () => {
  const app = await rig.app();
  const run = runId();
  const g = group(run);
  // One ASCII character first, so a cut counted in UTF-16 units would fall between the two halves of an emoji.
  const emoji = `a${'🔥'.repeat(20_000)}`;
  g.alerts[0]!.annotations.description = emoji;
  g.alerts[0]!.annotations.summary = `${'🚨'.repeat(3_001)}b`;
  const res = await post(app, JSON.stringify(g));
  expect(res.statusCode).toBe(202);
  const [first] = await recordsOf((res.json() as { ids: string[] }).ids);
  const { value, event } = first!;
  // Decoded from the record's bytes: an invalid sequence would have become U+FFFD, a lone surrogate a \ud83d escape.
  expect(value).not.toContain('\uFFFD');
  expect(value).not.toMatch(/\\ud[89a-f][0-9a-f]{2}/i);
  const d = event.data;
  for (const [field, text] of Object.entries({ title: d.title, description: d.description!, 'annotations.description': d.annotations.description! })) {
    expect({ field, wellFormed: wellFormed(text), marked: MARK.test(text) }).toEqual({ field, wellFormed: true, marked: true });
  }
  expect(d.description).toBe(`${emoji.slice(0, 1 + 2 * (15_000 - '…[cut: 20,001 characters]'.length - 1))}…[cut: 5,026 characters]`);
  expect(Array.from(d.description!).length).toBeLessThanOrEqual(15_000);
  expect(d.title).toBe(`${'🚨'.repeat(3_000 - '…[cut: 3,002 characters]'.length)}…[cut: ${removedOf(3_002, 3_000)} characters]`);
  // The summary is within an annotation's bound: only the title made from it is cut.
  expect(d.annotations.summary).toBe(g.alerts[0]!.annotations.summary);
  expect(d.cut).toEqual([
    { field: 'title', characters: removedOf(3_002, 3_000) },
    { field: 'description', characters: removedOf(20_001, 15_000) },
    { field: 'annotations.description', characters: removedOf(20_001, 15_000) },
  ]);
});

test('the same request makes the same events: cuts are deterministic', async () => {
  const fixed = (prefix: string) => {
    let n = 0;
    return () => `${prefix}-${++n}`;
  };
  const run = runId();
  const g = group(run);
  g.alerts[0]!.annotations.description = 'é🔥x'.repeat(180_000);
  g.alerts[0]!.labels.trace = 'λ'.repeat(5_000);
  const annotations: Record<string, string> = {};
  for (let i = 0; i < 80; i++) annotations[`n${i}`] = `${i}🙂`.padEnd(12_000, 'z');
  g.alerts[1]!.annotations = annotations;
  const sent = JSON.stringify(g);
  const now = () => new Date('2026-12-06T05:00:00Z');
  const a = await rig.app({ now, newId: fixed(`${run}a`), config: { bodyLimit: 4 * 1024 * 1024 } });
  const b = await rig.app({ now, newId: fixed(`${run}b`), config: { bodyLimit: 4 * 1024 * 1024 } });
  const first = await post(a, sent);
  const second = await post(b, sent);
  expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
  const one = await recordsOf((first.json() as { ids: string[] }).ids);
  const two = await recordsOf((second.json() as { ids: string[] }).ids);
  // Equal but for the ids the two requests were given.
  expect(two.map((r) => r.value.replaceAll(`${run}b-`, `${run}a-`))).toEqual(one.map((r) => r.value));
  // The first alert's raw keeps its structure and the request's group, its long strings cut.
  const d = one[0]!.event.data;
  expect(d.cut!.map((c) => c.field)).toEqual(['description', 'annotations.description', 'labels.trace', 'raw']);
  expect(d.labels.trace).toMatch(MARK);
  expect((d.raw as { group: { receiver: string } }).group.receiver).toBe('ops-zulip');
  expect((d.raw as AmAlert).annotations.description).toBe(d.description);
  expect(one[1]!.event.data.cut!.some((c) => c.field === 'raw')).toBe(true);
});

test("an alert whose structure alone is over one record → 413 naming it, and the group's other alert is still recorded", async () => {
  const app = await rig.app({ config: { bodyLimit: 4 * 1024 * 1024 } });
  const run = runId();
  const g = group(run);
  // A label NAME of 1.1 MB: names are the alert's structure (matchers, the alias), never cut.
  g.alerts[1]!.labels[`k${'n'.repeat(1_100_000)}`] = 'v';
  const before = await endOffsets();
  const res = await post(app, JSON.stringify(g));
  expect(res.statusCode).toBe(413);
  const body = res.json() as { error: string; message: string };
  expect(body.error).toBe('payload_too_large');
  expect(body.message).toMatch(/^alert 1 is \d+ bytes once normalised, with its text cut and without its raw payload, above the 1000000 bytes one Kafka record may hold/);
  expect(body.message).toContain("the request's other 1 alert was recorded");
  expect(recordsBetween(before, await endOffsets(), TOPICS.alertsReceived)).toBe(1);
  const records = await settled(() => readTopic(rig.kafka, TOPICS.alertsReceived));
  const critical = records.filter((r) => r.event?.alias === `alertmanager:${run}-0`);
  expect(critical).toHaveLength(1);
  expect(critical[0]!.event!.data).toMatchObject({ severity: 'critical', request: { index: 0, count: 2 } });
});
