import { renderRoot, repeatReplyText, resolvedReplyText, LIMITS, type IncidentView } from './render';

const base: IncidentView = {
  alias: 'alertmanager:abc',
  incidentId: '1b4e28ba-2fa1-81d2-883f-0016d3cca427',
  occurrence: 1,
  title: 'Disk almost full',
  severity: 'critical',
  source: 'alertmanager',
  status: 'open',
  count: 1,
  labels: { team: 'db', alertname: 'DiskFull' },
  links: [{ title: 'Graph', url: 'http://prom:9090/graph?x=1' }],
  description: 'Less than 5% free',
  openedAt: '2025-03-01T10:00:00.000Z',
  rule: { path: 'defaults', rulesVersion: 'abc' },
};

type Text = { type: string; text: string };
type Button = { type: string; action_id: string; value: string; text: Text };
type Block = { type: string; text?: Text; fields?: Text[]; elements?: Text[] | Button[] };

/** Checks the Block Kit limits a Slack API call would otherwise reject. */
function expectValidBlocks(blocks: unknown[]): void {
  expect(blocks.length).toBeLessThanOrEqual(50);
  for (const b of blocks as Block[]) {
    if (b.type === 'header') {
      expect(b.text!.type).toBe('plain_text');
      expect(Array.from(b.text!.text).length).toBeLessThanOrEqual(LIMITS.header);
    } else if (b.type === 'section') {
      expect(b.text ?? b.fields).toBeDefined();
      if (b.text) expect(Array.from(b.text.text).length).toBeLessThanOrEqual(LIMITS.sectionText);
      if (b.fields) {
        expect(b.fields.length).toBeLessThanOrEqual(LIMITS.fields);
        for (const f of b.fields) expect(Array.from(f.text).length).toBeLessThanOrEqual(LIMITS.field);
      }
    } else if (b.type === 'context') {
      expect(b.elements!.length).toBeGreaterThan(0);
      expect(b.elements!.length).toBeLessThanOrEqual(LIMITS.contextElements);
    } else if (b.type === 'actions') {
      // Buttons: at most 25 elements, plain_text labels ≤ 75, values ≤ 2000, action ids ≤ 255.
      const buttons = b.elements as Button[];
      expect(buttons.length).toBeLessThanOrEqual(25);
      for (const e of buttons) {
        expect(e.type).toBe('button');
        expect(e.text.type).toBe('plain_text');
        expect(Array.from(e.text.text).length).toBeLessThanOrEqual(75);
        expect(Array.from(e.value).length).toBeLessThanOrEqual(2000);
        expect(e.action_id.length).toBeLessThanOrEqual(255);
      }
      continue;
    } else {
      throw new Error(`unexpected block type ${b.type}`);
    }
    for (const t of [b.text, ...(b.fields ?? []), ...((b.elements as Text[] | undefined) ?? [])]) if (t) expect(t.text.length).toBeGreaterThan(0);
  }
}

describe('Slack rendering', () => {
  test('the root message shows title, severity, source, count, labels, links and the alias', () => {
    const m = renderRoot(base);
    expectValidBlocks(m.blocks);
    const all = JSON.stringify(m.blocks);
    for (const s of ['Disk almost full', 'critical', 'alertmanager', '*Count*\\n1', 'team: db', '<http://prom:9090/graph?x=1|Graph>', 'alias `alertmanager:abc`']) {
      expect(all).toContain(s);
    }
    expect(m.text).toBe('[FIRING] Disk almost full (critical, alertmanager)');
  });

  test('the resolved version says so in the header, the facts and the fallback text', () => {
    const m = renderRoot({ ...base, status: 'resolved', resolvedAt: '2025-03-01T11:00:00.000Z', count: 3 });
    expectValidBlocks(m.blocks);
    expect((m.blocks[0] as Block).text!.text.startsWith('✅')).toBe(true);
    expect(JSON.stringify(m.blocks)).toContain('RESOLVED');
    expect(JSON.stringify(m.blocks)).toContain('2025-03-01T11:00:00.000Z');
    expect(m.text.startsWith('[RESOLVED]')).toBe(true);
  });

  test('huge or hostile content stays within Block Kit limits and is escaped', () => {
    const labels = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`label_${i}`, `<value & ${'v'.repeat(30)}>`]));
    const m = renderRoot({
      ...base,
      title: 'T'.repeat(500),
      description: '<!channel> '.repeat(1000),
      labels,
      links: Array.from({ length: 300 }, (_, i) => ({ title: `a|b>${i}`, url: `https://x.example/${i}?a=|>` })).concat([
        { title: 'not a web link', url: 'javascript:alert(1)' },
      ]),
    });
    expectValidBlocks(m.blocks);
    const all = JSON.stringify(m.blocks);
    expect(all).not.toContain('<!channel>');
    expect(all).toContain('&lt;value &amp;');
    expect(all).not.toContain('javascript:');
  });

  test('until it is resolved, the root message carries Acknowledge and Resolve, valued with the alias and incident id', () => {
    const buttonsOf = (blocks: unknown[]) => (blocks as Block[]).filter((b) => b.type === 'actions').flatMap((b) => b.elements as Button[]);
    const value = { alias: base.alias, incidentId: base.incidentId };
    for (const status of ['open', 'acknowledged'] as const) {
      const buttons = buttonsOf(renderRoot({ ...base, status }).blocks);
      expect(buttons.map((b) => [b.action_id, b.text.text, JSON.parse(b.value)])).toEqual([
        ['alertbus_ack', 'Acknowledge', value],
        ['alertbus_resolve', 'Resolve', value],
      ]);
    }
    expect(buttonsOf(renderRoot({ ...base, status: 'resolved', resolvedAt: '2025-03-01T11:00:00.000Z' }).blocks)).toEqual([]);
  });

  test('who acknowledged and who resolved are shown as Slack mentions, with the time', () => {
    const m = renderRoot({
      ...base,
      status: 'resolved',
      acknowledgedAt: '2025-03-01T10:05:00.000Z',
      acknowledgedBy: 'U0BOB',
      resolvedAt: '2025-03-01T11:00:00.000Z',
      resolvedBy: 'someone <odd>',
    });
    expectValidBlocks(m.blocks);
    const all = JSON.stringify(m.blocks);
    expect(all).toContain('*Acknowledged*\\n<@U0BOB> at 2025-03-01T10:05:00.000Z');
    expect(all).toContain('*Resolved*\\nsomeone &lt;odd&gt; at 2025-03-01T11:00:00.000Z');
  });

  test('reply texts', () => {
    expect(repeatReplyText({ ...base, count: 5 })).toBe('Still firing: Disk almost full (received 5 times since 2025-03-01T10:00:00.000Z)');
    expect(resolvedReplyText({ ...base, count: 1 })).toBe('Resolved: Disk almost full (fired 1 time)');
  });
});
