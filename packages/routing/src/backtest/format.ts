import type { BacktestReport, PersonActionChange, PersonActionResult, SideTotals } from './backtest';
import type { Outcome, OutcomeField } from './outcome';

const show: Record<OutcomeField, (o: Outcome) => string> = {
  channel: (o) => o.channel ?? '—',
  priority: (o) => o.priority ?? '—',
  paged: (o) => (o.paged ? 'yes' : 'no'),
  suppressed: (o) => (o.suppressed.length ? o.suppressed.join(', ') : '—'),
  messages: (o) => Object.entries(o.messages).map(([c, n]) => `${c}: ${n}`).join(', ') || '—',
};

const WHERE: Record<PersonActionChange['via'], string> = { slack: 'in Slack', pager: 'in the pager' };

/** What a person's ack or resolve did in the recording. */
function actualText(r: PersonActionResult, via: PersonActionChange['via']): string {
  return r.did === 'nothing' ? `did nothing in the recording (${r.reason})` : `${r.did} by a person ${WHERE[via]} in the recording`;
}

/** What it did under the candidate, and why nothing when so. */
function candidateText(r: PersonActionResult, via: PersonActionChange['via']): string {
  if (r.did !== 'nothing') return `${r.did} under the candidate`;
  switch (r.reason) {
    case 'no-incident':
      return r.incident === 'none' || r.incident === undefined ? 'not opened under the candidate' : via === 'pager' ? 'not paged under the candidate' : 'no incident to act on under the candidate';
    case 'already-resolved':
      return 'already resolved under the candidate';
    case 'already-acknowledged':
      return 'already acknowledged under the candidate';
    case 'not-acknowledged':
      return 'not acknowledged under the candidate';
    case 'other-occurrence':
      return 'another occurrence under the candidate';
    case 'not-permitted':
      return 'not permitted by the candidate rules';
    default:
      return `did nothing under the candidate (${r.reason})`;
  }
}

function totalsRows(a: SideTotals, c: SideTotals): Array<[string, number, number]> {
  const rows: Array<[string, number, number]> = [
    ['incidents opened', a.opened, c.opened],
    ['paged', a.paged, c.paged],
  ];
  const keys = (x: Record<string, number>, y: Record<string, number>) => [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
  for (const p of keys(a.byPriority, c.byPriority)) rows.push([`  ${p}`, a.byPriority[p] ?? 0, c.byPriority[p] ?? 0]);
  for (const r of keys(a.suppressed, c.suppressed)) rows.push([`suppressed: ${r}`, a.suppressed[r] ?? 0, c.suppressed[r] ?? 0]);
  for (const ch of keys(a.messages, c.messages)) rows.push([`messages in ${ch}`, a.messages[ch] ?? 0, c.messages[ch] ?? 0]);
  return rows;
}

/** The backtest report for people: the changed incidents, field by field, then the totals side by side. */
export function formatBacktest(r: BacktestReport, rulesFile: string): string {
  const t = r.totals;
  const lines = [
    `Backtest of ${rulesFile} (rules version ${r.candidate.rulesVersion.slice(0, 12)}) over [${r.window.from}, ${r.window.to})`,
    `What happened was decided with rules version(s): ${r.actualRulesVersions.map((v) => v.slice(0, 12)).join(', ') || '(none in the window)'}`,
    `Inputs: ${t.inputs}${t.undecided ? ` (${t.undecided} not decided by the router yet, left out)` : ''} · incidents compared: ${t.incidents} · changed: ${t.changed}`,
    ...(t.candidateInhibitionEnds
      ? [`Inhibition ends of firings only the candidate kept inhibited (the router's ticker replayed over them): ${t.candidateInhibitionEnds}`]
      : []),
    '',
  ];
  if (r.changes.length === 0) lines.push('No incident would have a different outcome.');
  else {
    lines.push('Changed incidents (what happened → what the candidate rules would do):');
    for (const c of r.changes) {
      lines.push(`  ${c.alias}  ${JSON.stringify(c.title)}  (${c.inputs} input${c.inputs === 1 ? '' : 's'})`);
      for (const f of c.differences) lines.push(`    ${f.padEnd(11)} ${show[f](c.actual)} → ${show[f](c.candidate)}`);
    }
  }
  const people = r.people;
  if (people.inputs > 0 || people.changed.length > 0) {
    lines.push('', `Inputs from people replayed (Slack and the pager): ${people.inputs} · acks and resolves with another effect under the candidate: ${people.changed.length}`);
    for (const p of people.changed) lines.push(`  ${p.alias}  ${p.at}  ${actualText(p.actual, p.via)}; ${candidateText(p.candidate, p.via)}`);
  }
  const rows = totalsRows(t.actual, t.candidate);
  const width = Math.max(32, ...rows.map(([name]) => name.length));
  lines.push('', `${'Totals'.padEnd(width + 2)} ${'actual'.padStart(9)} ${'candidate'.padStart(10)}`);
  for (const [name, a, c] of rows) {
    lines.push(`  ${name.padEnd(width)} ${String(a).padStart(9)} ${String(c).padStart(10)}${a !== c ? '  *' : ''}`);
  }
  return lines.join('\n');
}
