import type { AliasState } from '@alertbus/schemas';
import { messageLinks, messageNotifications, mrkdwnTexts } from '@alertbus/stand-ins';
import { linkLabel, renderRoot, repeatReplyText, resolvedReplyText, LIMITS, type IncidentView } from './render';
import { renderStormSummary } from './storm-render';
import { stormOf } from './storm';
import { truncateMrkdwn } from './text';

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
    expect(JSON.stringify(m.blocks)).toContain('<!date^1740826800^{date_short_pretty} {time}|2025-03-01 11:00:00 UTC>');
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

  test('open, the root message carries Acknowledge and Resolve, valued with the alias and incident id; acknowledged, Resolve alone', () => {
    const buttonsOf = (blocks: unknown[]) => (blocks as Block[]).filter((b) => b.type === 'actions').flatMap((b) => b.elements as Button[]);
    const value = { alias: base.alias, incidentId: base.incidentId };
    const shown = (status: 'open' | 'acknowledged') => buttonsOf(renderRoot({ ...base, status }).blocks).map((b) => [b.action_id, b.text.text, JSON.parse(b.value)]);
    expect(shown('open')).toEqual([
      ['alertbus_ack', 'Acknowledge', value],
      ['alertbus_resolve', 'Resolve', value],
    ]);
    expect(shown('acknowledged')).toEqual([['alertbus_resolve', 'Resolve', value]]);
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
    expect(all).toContain('*Acknowledged*\\n<@U0BOB> at <!date^1740823500^{date_short_pretty} {time}|2025-03-01 10:05:00 UTC>');
    expect(all).toContain('*Resolved*\\nsomeone &lt;odd&gt; at <!date^1740826800^{date_short_pretty} {time}|2025-03-01 11:00:00 UTC>');
  });

  test('reply texts', () => {
    expect(repeatReplyText({ ...base, count: 5 })).toBe('Still firing: Disk almost full (received 5 times since <!date^1740823200^{date_short_pretty} {time}|2025-03-01 10:00:00 UTC>)');
    expect(resolvedReplyText({ ...base, count: 1 })).toBe('Resolved: Disk almost full (fired 1 time)');
  });
});

/** Slack markup an alert's sender might write, hoping it pings people or hides a link. */
const HOSTILE = 'disk full <!channel> <!here> <@U123> <!subteam^S0ALL> <https://evil.example|Acknowledge> & <#C0SECRET>';
const hostile: IncidentView = {
  ...base,
  alias: `generic:${HOSTILE}`,
  title: HOSTILE,
  severity: '<!here>',
  source: 'generic <@U999>',
  description: `${HOSTILE}\n*bold* is fine`,
  labels: { host: HOSTILE, [`<@U123>`]: '<!channel>' },
  links: [{ title: '<!channel> Acknowledge', url: 'https://grafana.example/d/1?a=1&b=<2>|3' }],
  rule: { path: 'rules[0]', name: '<!here>', rulesVersion: 'abc' },
};

describe('nothing an alert says pings anyone or hides a link (only &, < and > are escaped, as Slack documents)', () => {
  test('the root post, every status: in the text and in every mrkdwn block, the markup is shown as text', () => {
    for (const v of [
      hostile,
      { ...hostile, status: 'acknowledged' as const, acknowledgedAt: '2025-03-01T10:05:00.000Z', acknowledgedBy: '<!channel>' },
      { ...hostile, status: 'resolved' as const, resolvedAt: '2025-03-01T11:00:00.000Z', resolvedBy: 'U0BOB' },
    ]) {
      const m = renderRoot(v);
      expectValidBlocks(m.blocks);
      const notified = messageNotifications(m);
      expect(notified).toEqual(v.resolvedBy ? ['user:U0BOB'] : []); // who resolved, from Slack's own click, is named
      // The one link is the alert's own link, with its label escaped and its URL kept in one piece.
      expect(messageLinks(m)).toEqual([{ url: 'https://grafana.example/d/1?a=1&amp;b=%3C2%3E%7C3', label: '&lt;!channel&gt; Acknowledge' }]);
      expect(m.text).toBe(`[${v.status === 'open' ? 'FIRING' : v.status.toUpperCase()}] disk full &lt;!channel&gt; &lt;!here&gt; &lt;@U123&gt; &lt;!subteam^S0ALL&gt; &lt;https://evil.example|Acknowledge&gt; &amp; &lt;#C0SECRET&gt; (&lt;!here&gt;, generic &lt;@U999&gt;)`);
      const texts = mrkdwnTexts(m).join('\n');
      expect(texts).toContain('• host: disk full &lt;!channel&gt; &lt;!here&gt;');
      expect(texts).toContain('• &lt;@U123&gt;: &lt;!channel&gt;');
      expect(texts).toContain('*bold* is fine'); // mrkdwn styling is not a ping: left as written
      expect(texts).not.toMatch(/&amp;lt;|&amp;amp;/); // escaped once, never twice
    }
  });

  test('the header is plain_text: shown as written, never parsed, so it is not escaped', () => {
    expect((renderRoot(hostile).blocks[0] as Block).text).toEqual({ type: 'plain_text', text: `🔥 ${HOSTILE}`, emoji: true });
  });

  test('thread replies and the storm summary escape the title too', () => {
    expect(repeatReplyText(hostile)).toBe(
      'Still firing: disk full &lt;!channel&gt; &lt;!here&gt; &lt;@U123&gt; &lt;!subteam^S0ALL&gt; &lt;https://evil.example|Acknowledge&gt; &amp; &lt;#C0SECRET&gt; (received 1 times since <!date^1740823200^{date_short_pretty} {time}|2025-03-01 10:00:00 UTC>)',
    );
    expect(messageNotifications({ text: resolvedReplyText(hostile) })).toEqual([]);
    expect(messageLinks({ text: resolvedReplyText(hostile) })).toEqual([]);
    const storm = stormOf('#alerts <!channel>', '2025-03-01T10:00:00.000Z', { threshold: 1, window: '5m', windowMs: 300_000 });
    const member = { ...hostile, status: 'open' as const } as unknown as AliasState;
    const summary = renderStormSummary(storm, { total: 2, open: 2, members: [member, member], paged: 0, pagedOpen: 0 });
    expect(messageNotifications(summary)).toEqual([]);
    expect(messageLinks(summary)).toEqual([]);
    expect(mrkdwnTexts(summary).join('\n')).toContain('disk full &lt;!channel&gt;');
  });

  test('a cut never leaves half an entity behind', () => {
    expect(truncateMrkdwn('ab &amp; cd', 5)).toBe('ab …');
    expect(truncateMrkdwn('ab &lt;', 6)).toBe('ab …');
    expect(truncateMrkdwn('ab &amp;', 8)).toBe('ab &amp;');
    const m = renderRoot({ ...hostile, description: '&'.repeat(5000) });
    expectValidBlocks(m.blocks);
    for (const t of mrkdwnTexts(m)) expect(t).not.toMatch(/&[a-z]{0,3}…$/);
  });
});

describe("a rule's mention pings, and only where it asks", () => {
  const sre = ['<!subteam^S0SRE>', '<@U0LEAD>'];

  test('the root post pings the rule\'s mention, in the text and in a section under the header', () => {
    const m = renderRoot(hostile, sre);
    expectValidBlocks(m.blocks);
    expect(messageNotifications(m)).toEqual(['subteam:S0SRE', 'user:U0LEAD']);
    expect(m.text.startsWith('<!subteam^S0SRE> <@U0LEAD> [FIRING] disk full &lt;!channel&gt;')).toBe(true);
    expect(m.blocks[1]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '<!subteam^S0SRE> <@U0LEAD>' } });
  });

  test('a re-notification pings again; the resolve reply and root updates (no mention given) do not', () => {
    expect(messageNotifications({ text: repeatReplyText(hostile, ['<!channel>']) })).toEqual(['@channel']);
    expect(messageNotifications({ text: resolvedReplyText(hostile) })).toEqual([]);
    expect(messageNotifications(renderRoot({ ...hostile, status: 'acknowledged', acknowledgedAt: '2025-03-01T10:05:00.000Z' }))).toEqual([]);
  });
});

describe('a link title cannot pose as another site', () => {
  test.each([
    [{ title: 'https://grafana.corp/d/abc', url: 'https://evil.example/login' }, 'https://grafana.corp/d/abc (evil.example)'],
    [{ title: 'grafana.corp dashboard', url: 'https://evil.example/login' }, 'grafana.corp dashboard (evil.example)'],
    [{ title: 'Dashboard', url: 'https://evil.example/login' }, 'Dashboard'],
    [{ title: 'Runbook', url: 'https://wiki.corp/runbooks/disk' }, 'Runbook'],
    [{ title: 'https://grafana.corp/d/abc', url: 'https://grafana.corp/d/abc?orgId=1' }, 'https://grafana.corp/d/abc'],
    [{ title: 'see GRAFANA.corp', url: 'https://grafana.corp/x' }, 'see GRAFANA.corp'],
    [{ title: '', url: 'https://grafana.corp/x' }, 'https://grafana.corp/x'],
    // Read as a reader sees it: an invisible character, a look-alike dot or a letter of another script hides nothing.
    [{ title: 'grafana.\u200bcorp/d/abc', url: 'https://evil.example/x' }, 'grafana.\u200bcorp/d/abc (evil.example)'],
    [{ title: 'grafana\u2024corp/d/abc', url: 'https://evil.example/x' }, 'grafana\u2024corp/d/abc (evil.example)'],
    [{ title: 'grafana.\u0441orp/d/abc', url: 'https://evil.example/x' }, 'grafana.\u0441orp/d/abc (evil.example)'],
    [{ title: 'https\u200b://grafana.corp/d/abc', url: 'https://evil.example/x' }, 'https\u200b://grafana.corp/d/abc (evil.example)'],
    [{ title: 'grafana\u3002corp', url: 'https://evil.example/x' }, 'grafana\u3002corp (evil.example)'],
    [{ title: 'ｇｒａｆａｎａ．ｃｏｒｐ', url: 'https://evil.example/x' }, 'ｇｒａｆａｎａ．ｃｏｒｐ (evil.example)'],
    [{ title: 'grafana\u00ad.corp', url: 'https://evil.example/x' }, 'grafana\u00ad.corp (evil.example)'],
    [{ title: '10.0.0.5:3000 dashboard', url: 'https://evil.example/x' }, '10.0.0.5:3000 dashboard (evil.example)'],
    // The real host inside a longer name is not the real host.
    [{ title: 'grafana.a.com', url: 'https://a.co/x' }, 'grafana.a.com (a.co)'],
    // A look-alike of the very host the link goes to still shows the real one.
    [{ title: 'grafana.\u0441orp', url: 'https://grafana.corp/x' }, 'grafana.\u0441orp (grafana.corp)'],
    [{ title: 'grafana.corp', url: 'https://grafana.\u0441orp/x' }, 'grafana.corp (grafana.xn--orp-3ed)'],
    // Names the same host, or none: as titled.
    [{ title: 'Grafana\u200b.corp', url: 'https://grafana.corp/x' }, 'Grafana\u200b.corp'],
    [{ title: 'Dashboard v1.2.3', url: 'https://evil.example/x' }, 'Dashboard v1.2.3'],
    [{ title: 'Панель', url: 'https://grafana.corp/x' }, 'Панель'],
  ])('%j → %s', (link, label) => {
    expect(linkLabel(link)).toBe(label);
  });

  test('in the root message, the real host follows the title', () => {
    const view: IncidentView = { ...base, links: [{ title: 'https://grafana.corp/d/abc', url: 'https://evil.example/login' }] };
    expect(JSON.stringify(renderRoot(view, []).blocks)).toContain('<https://evil.example/login|https://grafana.corp/d/abc (evil.example)>');
  });
});

describe('Slack rendering: Grafana\'s measured values', () => {
  type Field = { text: string };
  const fieldsOf = (m: { blocks: unknown[] }) => ((m.blocks as Block[]).find((b) => b.fields)!.fields as Field[]).map((f) => f.text);
  /** Values of a real Grafana 11 alert (shared/fixtures/grafana/zulip_firing_values_imageURL_v11.json). */
  const grafana: IncidentView = { ...base, source: 'grafana', values: { A: 2473545728, B: 0, C: 1, minute: 9 } };

  test('the root message shows them as a field after the severity, numbers as sent', () => {
    const m = renderRoot(grafana);
    expectValidBlocks(m.blocks);
    expect(fieldsOf(m).slice(0, 3)).toEqual(['*Status*\n:rotating_light: FIRING', '*Severity*\ncritical', '*Values*\nA = 2473545728 · B = 0 · C = 1 · minute = 9']);
  });

  test('no values (other sources, incidents opened before): the message is the same as without the field', () => {
    expect(renderRoot(base)).toEqual(renderRoot({ ...base, values: {} }));
    expect(JSON.stringify(renderRoot(base).blocks)).not.toContain('Values');
  });

  test('names are sender text: escaped, on one line, cut; null shown as null', () => {
    const hostile: IncidentView = { ...base, values: { '<!channel> A\n*B*': 1, [`${'x'.repeat(100)}`]: null } };
    const m = renderRoot(hostile);
    expectValidBlocks(m.blocks);
    expect(messageNotifications(m)).toEqual([]);
    const field = fieldsOf(m)[2]!;
    expect(field).toBe(`*Values*\n&lt;!channel&gt; A *B* = 1 · ${'x'.repeat(39)}… = null`);
  });

  test('bounded: at most 8 values within 400 characters, then how many more', () => {
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`Q${i}`, i * 1e21]));
    expect(fieldsOf(renderRoot({ ...base, values: many }))[2]).toBe(
      `*Values*\n${Array.from({ length: 8 }, (_, i) => `Q${i} = ${i * 1e21}`).join(' · ')} · +22 more`,
    );
    const long = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`${'&'.repeat(39)}${i}`, -1.5]));
    const m = renderRoot({ ...base, values: long });
    expectValidBlocks(m.blocks);
    const field = fieldsOf(m)[2]!;
    expect([...field].length).toBeLessThanOrEqual('*Values*\n'.length + 400 + ' · +30 more'.length);
    expect(field).toMatch(/ · \+\d+ more$/);
    expect(field).not.toMatch(/&(?!amp;)/);
  });
});
