/**
 * Routing decisions with the router's own pure decider: an ordinary alert next to one that baits a
 * backtracking engine (a rule host=~"(a|a)*b", a host of 40 a's), and what JavaScript's RegExp would cost for
 * the same pattern (measured on shorter hosts: every further "a" doubles it). Pure CPU, no Kafka: a second.
 * Alone: `npx tsx bench/regex.ts`.
 */
import { compileRules, decide } from '@alertbus/routing';
import { compilePattern, deriveId, makeEnvelope, type Envelope } from '@alertbus/schemas';

const RULES = `
rules:
  - name: bait
    match: ['host=~"(a|a)*b"']
    slack: { channel: "#ops" }
  - name: databases
    match: ['team="db"', 'severity=~"critical|page"', 'instance=~"db-[0-9]+:9100"']
    slack: { channel: "#db" }
`;

function alert(i: number, host: string): Envelope<'AlertReceived'> {
  const at = new Date(Date.UTC(2026, 10, 22, 8) + i).toISOString();
  const id = deriveId('bench-regex', host, i);
  return makeEnvelope({
    id,
    type: 'AlertReceived',
    alias: `alertmanager:bench${i}`,
    occurredAt: at,
    recordedAt: at,
    source: 'ingest/alertmanager',
    correlationId: id,
    data: {
      source: 'alertmanager',
      status: 'firing',
      title: 'bench',
      severity: 'critical',
      labels: { alertname: 'DiskFull', team: 'db', instance: `db-${i % 50}:9100`, host },
      annotations: {},
      links: [],
      raw: {},
    },
  });
}

const microsPer = (n: number, run: (i: number) => void): number => {
  for (let i = 0; i < Math.min(n, 200); i++) run(i); // warm up
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) run(i);
  return Number(process.hrtime.bigint() - t) / 1e3 / n;
};

export function regexBench(): string[] {
  const compiled = compileRules(RULES, 'bench', { defaultChannel: '#alerts' });
  if (!compiled.ok) throw new Error(compiled.message);
  const rules = compiled.rules;
  const N = 3_000;
  const ordinary = Array.from({ length: N }, (_, i) => alert(i, `web-${i}`));
  const bait = Array.from({ length: N }, (_, i) => alert(i, 'a'.repeat(40)));
  for (const input of [...ordinary, ...bait]) decide(input, undefined, rules); // both paths warm before either is timed
  const plain = microsPer(N, (i) => decide(ordinary[i % N]!, undefined, rules));
  const baited = microsPer(N, (i) => decide(bait[i % N]!, undefined, rules));

  const re2 = compilePattern('(a|a)*b');
  if (!re2.ok) throw new Error(re2.error);
  const js = /^(?:(a|a)*b)$/;
  const jsAt = (n: number) => microsPer(3, () => js.test('a'.repeat(n)));
  const n1 = 18;
  const n2 = 22;
  const j1 = jsAt(n1);
  const j2 = jsAt(n2);
  const perA = Math.pow(j2 / j1, 1 / (n2 - n1)); // growth per extra "a" (about 2)
  const at40 = j2 * Math.pow(perA, 40 - n2);

  const sev = compilePattern('critical|page');
  if (!sev.ok) throw new Error(sev.error);
  const re2Match = microsPer(200_000, () => sev.pattern.test('warning'));
  const jsSev = /^(?:critical|page)$/u;
  const jsMatch = microsPer(200_000, () => jsSev.test('warning'));

  return [
    `decide(), ordinary alert (3 rules, 4 regexes)   : ${plain.toFixed(1)} µs per alert`,
    `decide(), host of 40 a's vs host=~"(a|a)*b"    : ${baited.toFixed(1)} µs per alert (ratio ${(baited / plain).toFixed(2)})`,
    `RE2 "(a|a)*b" on 40 a's                        : ${microsPer(10_000, () => re2.pattern.test('a'.repeat(40))).toFixed(2)} µs`,
    `JavaScript RegExp on ${n1} / ${n2} a's            : ${(j1 / 1e3).toFixed(1)} / ${(j2 / 1e3).toFixed(1)} ms (×${perA.toFixed(2)} per "a")`,
    `JavaScript RegExp on 40 a's, extrapolated     : ${(at40 / 1e6 / 3600).toFixed(1)} hours`,
    `one matcher =~"critical|page" on "warning"     : RE2 ${(re2Match * 1e3).toFixed(0)} ns, RegExp ${(jsMatch * 1e3).toFixed(0)} ns`,
  ];
}

if (require.main === module) {
  console.log('## routing decisions and regexes (pure, no Kafka)');
  for (const line of regexBench()) console.log(line);
}
