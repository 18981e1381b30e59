/**
 * `npx tsx bench/request-timeline.ts <request log dir> <BENCH_TRACE_FILE>`: the requests of bench/request-log.cjs lined
 * up with the bench's alerts (their POST sent, answered, and the Slack call). Prints each service's requests per alert
 * (by API, and the errors), a per-alert timeline and the sinks' fetch gaps, over the trace's window (first POST to the
 * last Slack call). The requests name no alert, so each alert's steps are matched by time: forwards from its POST
 * (ingest's first Produce sent after it, the router's first input fetch answered after that Produce was: the alert's
 * own unless a fetch sent before the record was written came back without it), and backwards from its Slack call (the
 * slack-sink's last fetch that brought commands before it, the router's last EndTxn answered before that fetch). Between
 * the two is the router's whole hop from fetch to commit. Matching the router's Produce backwards picked the latest
 * transaction's, not the alert's, while several were in flight: the steps stop at what matches reliably.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Req { a: string; t0: number; t1: number; n?: number; tp?: string[]; err?: string }
interface Alert { tSent: number; tAnswered?: number; tSlack?: number }

const [dir, traceFile] = process.argv.slice(2);
if (!dir || !traceFile) throw new Error('usage: request-timeline.ts <request log dir> <trace file>');
const names = ['router', 'slack-sink', 'opsgenie-sink', 'history', 'ingest'];
const byProcess = new Map<string, Req[]>();
for (const f of readdirSync(dir).filter((f) => f.endsWith('.jsonl'))) {
  const lines = readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Req & { argv?: string });
  const argv = lines.find((l) => l.argv !== undefined)?.argv ?? '';
  const name = names.find((n) => argv.includes(`services/${n}/`)) ?? 'bench';
  byProcess.set(name, [...(byProcess.get(name) ?? []), ...lines.filter((l) => l.a !== undefined)]);
}
const alerts = readFileSync(traceFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Alert).filter((t) => t.tSlack && t.tAnswered);
const from = Math.min(...alerts.map((t) => t.tSent));
const to = Math.max(...alerts.map((t) => t.tSlack!));
console.log(`${alerts.length} alerts over ${((to - from) / 1000).toFixed(1)} s`);
const inWindow = (r: Req) => r.t0 >= from && r.t0 <= to;
for (const [name, reqs] of [...byProcess].sort()) {
  const counts = new Map<string, number>();
  const errors = new Map<string, number>();
  for (const r of reqs.filter(inWindow)) {
    counts.set(r.a, (counts.get(r.a) ?? 0) + 1);
    if (r.err) errors.set(`${r.a} ${r.err}`, (errors.get(`${r.a} ${r.err}`) ?? 0) + 1);
  }
  const total = [...counts.values()].reduce((s, n) => s + n, 0);
  const per = [...counts].sort((x, y) => y[1] - x[1]).map(([a, n]) => `${a} ${(n / alerts.length).toFixed(2)}`);
  const errs = [...errors].map(([e, n]) => `${e} ×${n}`);
  console.log(`${name.padEnd(14)}: ${(total / alerts.length).toFixed(2)} requests per alert (${per.join(', ')})${errs.length ? `; errors: ${errs.join(', ')}` : ''}`);
}
const router = byProcess.get('router') ?? [];
const sink = byProcess.get('slack-sink') ?? [];
const fetchesOf = (reqs: Req[], topic: string) => reqs.filter((r) => r.a === 'Fetch' && r.tp?.some((t) => t.includes(topic))).sort((x, y) => x.t1 - y.t1);
const ok = (api: string) => router.filter((r) => r.a === api && !r.err);
const inputFetches = fetchesOf(router, 'alerts.received');
const produces = ok('Produce').sort((x, y) => x.t0 - y.t0);
const endTxns = ok('EndTxn').sort((x, y) => x.t1 - y.t1);
const sinkFetches = fetchesOf(sink, 'commands.slack');
/** The last of `sorted` whose `key` is at or before `t`. */
const lastBefore = (sorted: Req[], key: 't0' | 't1', t: number): Req | undefined => {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]![key] <= t) lo = mid + 1;
    else hi = mid;
  }
  return sorted[lo - 1];
};
const ingestProduces = (byProcess.get('ingest') ?? []).filter((r) => r.a === 'Produce' && !r.err).sort((x, y) => x.t0 - y.t0);
/** The first of `sorted` whose `key` is at or after `t`. */
const firstAfter = (sorted: Req[], key: 't0' | 't1', t: number): Req | undefined => sorted.find((r) => r[key] >= t);
const steps = [
  "POST sent → ingest's Produce answered",
  "ingest's Produce answered → router's next input fetch answered",
  'that fetch answered → EndTxn answered',
  'EndTxn sent → answered',
  'EndTxn answered → sink fetch answered',
  'sink fetch answered → Slack call',
  'POST sent → Slack call',
];
const gaps: number[][] = steps.map(() => []);
for (const t of alerts) {
  // Forwards from the POST: ingest's first Produce sent after it, the router's first input fetch answered after that.
  const ip = firstAfter(ingestProduces, 't0', t.tSent);
  const f = ip && firstAfter(inputFetches, 't1', ip.t1);
  // Backwards from the Slack call: the sink's last fetch of commands before it, the router's last EndTxn before that.
  const s = lastBefore(sinkFetches, 't1', t.tSlack!);
  const e = s && lastBefore(endTxns, 't1', s.t1);
  if (!ip || !f || !s || !e || e.t1 < f.t1) continue;
  [ip.t1 - t.tSent, f.t1 - ip.t1, e.t1 - f.t1, e.t1 - e.t0, s.t1 - e.t1, t.tSlack! - s.t1, t.tSlack! - t.tSent].forEach((g, i) => gaps[i]!.push(g));
}
void produces;
const pct = (v: number[], p: number) => v[Math.min(v.length - 1, Math.floor((v.length * p) / 100))] ?? NaN;
for (const [i, name] of steps.entries()) {
  const v = gaps[i]!.sort((x, y) => x - y);
  console.log(`  ${name.padEnd(46)}: p50 ${pct(v, 50).toFixed(1)} ms  p90 ${pct(v, 90).toFixed(1)} ms  (${v.length} alerts)`);
}
for (const name of ['slack-sink', 'opsgenie-sink']) {
  // After a fetch that brought commands, KafkaJS fetches again only once every batch of it was handled.
  const fetches = (byProcess.get(name) ?? []).filter((r) => r.a === 'Fetch' && inWindow(r)).sort((x, y) => x.t0 - y.t0);
  const withRecords = fetches.filter((r) => (r.n ?? 0) > 0);
  const idle: number[] = [];
  for (const [i, r] of fetches.entries()) if ((r.n ?? 0) > 0 && fetches[i + 1]) idle.push(fetches[i + 1]!.t0 - r.t1);
  idle.sort((x, y) => x - y);
  const none = idle.reduce((s, g) => s + g, 0) / (to - from);
  const records = withRecords.reduce((s, r) => s + (r.n ?? 0), 0);
  // slack-sink: of that gap, how much comes after the fetch's last Slack call (the ledger's finish, the delivery events' acks).
  const calls = alerts.map((t) => t.tSlack!).sort((x, y) => x - y);
  const tail: number[] = [];
  if (name === 'slack-sink') {
    for (const [i, r] of fetches.entries()) {
      const next = fetches[i + 1];
      if ((r.n ?? 0) === 0 || !next) continue;
      const last = calls.filter((c) => c >= r.t1 && c <= next.t0).at(-1);
      if (last !== undefined) tail.push(next.t0 - last);
    }
    tail.sort((x, y) => x - y);
  }
  console.log(
    `${name}: ${withRecords.length} fetches with records (${(records / Math.max(1, withRecords.length)).toFixed(2)} records each); no fetch outstanding after one: p50 ${pct(idle, 50).toFixed(1)} ms, p90 ${pct(idle, 90).toFixed(1)} ms, ${(none * 100).toFixed(0)} % of the time${tail.length ? `; of it after the last Slack call: p50 ${pct(tail, 50).toFixed(1)} ms, p90 ${pct(tail, 90).toFixed(1)} ms` : ''}`,
  );
}
