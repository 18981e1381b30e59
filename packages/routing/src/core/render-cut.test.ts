import { readFileSync } from 'node:fs';
import { mrkdwnTexts } from '@alertbus/stand-ins';
import { LIMITS, renderRoot, repeatReplyText, resolvedReplyText, rootText, type IncidentView } from './render';

/** A real Alertmanager alert (kube-prometheus CPUThrottlingHigh), its texts then made longer than any sink shows. */
const alert = JSON.parse(readFileSync('/work/shared/fixtures/alertmanager/prom2teams_k8s_resolved_with_common_items.json', 'utf8')).alerts[0];
const message: string = alert.annotations.message;

/** `text` cut as ingest cuts it to `max` characters: its head, then the mark of how many went (all ASCII here). */
function ingestCut(text: string, max: number): string {
  for (let keep = max; ; keep--) {
    const mark = `…[cut: ${(text.length - keep).toLocaleString('en-US')} characters]`;
    if (keep + mark.length <= max) return text.slice(0, keep) + mark;
  }
}

const view = (over: Partial<IncidentView>): IncidentView => ({
  alias: 'alertmanager:dd19ae3d4e06ac55',
  incidentId: '1b4e28ba-2fa1-81d2-883f-0016d3cca427',
  occurrence: 1,
  title: alert.annotations.summary,
  severity: alert.labels.severity,
  source: 'alertmanager',
  status: 'open',
  count: 1,
  labels: alert.labels,
  links: [{ title: 'Prometheus', url: alert.generatorURL }],
  description: message,
  openedAt: '2019-01-28T20:26:23.868Z',
  rule: { path: 'defaults', rulesVersion: 'abc' },
  ...over,
});

type Block = { type: string; text?: { text: string }; elements?: Array<{ text: string }> };
const sections = (blocks: unknown[]) => (blocks as Block[]).filter((b) => b.type === 'section' && b.text).map((b) => b.text!.text);
const header = (blocks: unknown[]) => (blocks as Block[]).find((b) => b.type === 'header')!.text!.text;
const context = (blocks: unknown[]) => (blocks as Block[]).find((b) => b.type === 'context')!.elements!.map((e) => e.text).join('\n');
const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
/** Half a surrogate pair with no other half. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const MARK = /…\[cut: ([\d,]+) characters\]$/;
const missing = (s: string) => Number(MARK.exec(s)![1]!.replace(/,/g, ''));

describe('a Slack message says where its text was cut, how much is missing and where the whole text is', () => {
  test('a description ingest cut at 15,000: the section stays within 3,000 and counts every character not shown', () => {
    const original = `${message} `.repeat(200); // about 28,000 characters as sent
    const description = ingestCut(original, 15_000);
    const m = renderRoot(view({ description }));
    const shown = sections(m.blocks).find((t) => t.startsWith(message.slice(0, 20)))!;
    expect([...shown].length).toBeLessThanOrEqual(LIMITS.sectionText);
    expect(shown).toMatch(MARK);
    const head = shown.replace(MARK, '');
    expect(original.startsWith(head)).toBe(true);
    expect(missing(shown)).toBe(original.length - head.length);
    expect(context(m.blocks)).toContain('`alertbus incidents show 1b4e28ba-2fa1-81d2-883f-0016d3cca427`');
  });

  test('the cut never falls inside an escape or a surrogate pair, wherever it lands', () => {
    for (let shift = 0; shift < 12; shift++) {
      const description = `${'x'.repeat(shift)}${'a&b<c>🔥 '.repeat(1500)}`;
      const shown = sections(renderRoot(view({ description })).blocks).find((t) => t.startsWith('x') || t.startsWith('a'))!;
      expect([...shown].length).toBeLessThanOrEqual(LIMITS.sectionText);
      expect(shown).not.toMatch(LONE_SURROGATE);
      const head = shown.replace(MARK, '');
      expect(head).not.toMatch(/&[a-z]{0,3}$/);
      expect(description.startsWith(unescape(head))).toBe(true);
      expect(missing(shown)).toBe([...description].length - [...unescape(head)].length);
    }
  });

  test('a 3,000-character title: the header stays within 150 and says how much of the title is missing', () => {
    const original = `${alert.annotations.summary} in pod ${alert.labels.pod_name} `.repeat(60);
    const title = ingestCut(original, 3_000);
    const m = renderRoot(view({ title }));
    const h = header(m.blocks);
    expect([...h].length).toBeLessThanOrEqual(LIMITS.header);
    const head = h.replace(/^\S+ /, '').replace(MARK, '');
    expect(original.startsWith(head)).toBe(true);
    expect(missing(h)).toBe(original.length - head.length);
    expect(context(m.blocks)).toContain('alertbus incidents show');
    const fallback = rootText(view({ title }));
    expect([...fallback].length).toBeLessThanOrEqual(LIMITS.fallback);
    expect(fallback).toMatch(/…\[cut: [\d,]+ characters\] \(warning, alertmanager\)$/);
  });

  test('the header never leaves part of an emoji sequence behind, and the thread replies mark the title cut too', () => {
    const family = '👨\u200D👩\u200D👧\u200D👦';
    for (const lead of ['', 'a', 'ab', 'abc']) {
      const h = header(renderRoot(view({ title: `${lead}${family.repeat(100)}` })).blocks);
      expect([...h].length).toBeLessThanOrEqual(LIMITS.header);
      expect(h.replace(/^\S+ /, '').replace(MARK, '')).toMatch(new RegExp(`^${lead}(?:${family})*$`, 'u'));
    }
    const original = `${alert.annotations.summary} & ${alert.labels.pod_name} `.repeat(60);
    const title = ingestCut(original, 3_000);
    for (const reply of [repeatReplyText(view({ title, count: 3 })), resolvedReplyText(view({ title, count: 3 }))]) {
      expect([...reply].length).toBeLessThanOrEqual(LIMITS.fallback);
      const m = /^(?:Still firing|Resolved): (.*)…\[cut: ([\d,]+) characters\] \(/s.exec(reply)!;
      expect(original.startsWith(unescape(m[1]!))).toBe(true);
      expect(Number(m[2]!.replace(/,/g, ''))).toBe(original.length - unescape(m[1]!).length);
    }
  });

  test('labels past one section: cut with the mark, and the message links the incident page when it has one', () => {
    const labels = { ...alert.labels, ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`pod_${i}`, alert.labels.pod_name.repeat(2)])) };
    const m = renderRoot(view({ labels }), [], { historyUrl: 'https://alertbus.example/history' });
    const listed = sections(m.blocks).find((t) => t.startsWith('*Labels*'))!;
    expect([...listed].length).toBeLessThanOrEqual(LIMITS.sectionText);
    expect(listed).toMatch(MARK);
    expect(context(m.blocks)).toContain('<https://alertbus.example/history/?incident=1b4e28ba-2fa1-81d2-883f-0016d3cca427|');
  });

  test('nothing cut: the texts are as sent and no line about cuts', () => {
    const m = renderRoot(view({}));
    expect(sections(m.blocks)).toContain(message);
    expect(mrkdwnTexts(m).join('\n')).not.toContain('cut');
  });
});
