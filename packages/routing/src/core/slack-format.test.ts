import { messageLinks, messageNotifications } from '@alertbus/stand-ins';
import { renderRoot, type IncidentView } from './render';
import { severityEmoji, slackDate, VIEW_ACTION_ID } from './slack-format';

const base: IncidentView = {
  alias: 'alertmanager:abc',
  incidentId: '1b4e28ba-2fa1-81d2-883f-0016d3cca427',
  occurrence: 1,
  title: 'Disk almost full',
  severity: 'warning',
  source: 'alertmanager',
  status: 'open',
  count: 1,
  labels: {},
  links: [],
  openedAt: '2025-03-01T10:00:00.000Z',
  rule: { path: 'defaults', rulesVersion: 'abc' },
};

type Button = { type: string; action_id: string; url?: string };
const buttons = (blocks: unknown[]) =>
  (blocks as Array<{ type: string; elements?: Button[] }>).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
const header = (blocks: unknown[]) => (blocks[0] as { text: { text: string } }).text.text;

describe('richer alert messages', () => {
  test.each([
    ['critical', 'open', '🔴'],
    ['P1', 'open', '🔴'],
    ['error', 'open', '🟠'],
    ['warning', 'open', '🟡'],
    ['info', 'open', '🔵'],
    ['whatever', 'open', '🔥'],
    ['critical', 'acknowledged', '👀'],
    ['critical', 'resolved', '✅'],
  ] as const)('severity %s, %s → %s in the header', (severity, status, emoji) => {
    expect(severityEmoji(severity, status)).toBe(emoji);
    expect(header(renderRoot({ ...base, severity, status, resolvedAt: '2025-03-01T11:00:00.000Z' }).blocks)).toBe(`${emoji} Disk almost full`);
  });

  test('times are Slack date tokens (each reader\'s own time zone) with a UTC fallback, and ping nobody', () => {
    expect(slackDate('2025-03-01T10:00:05.000Z')).toBe('<!date^1740823205^{date_short_pretty} {time}|2025-03-01 10:00:05 UTC>');
    expect(slackDate('not a time')).toBe('not a time');
    const m = renderRoot({ ...base, status: 'acknowledged', acknowledgedAt: '2025-03-01T10:05:00.000Z' });
    expect(JSON.stringify(m.blocks)).toContain('*Opened*\\n<!date^1740823200^{date_short_pretty} {time}|2025-03-01 10:00:00 UTC>');
    expect(JSON.stringify(m.blocks)).toContain('*Acknowledged*\\n<!date^1740823500^');
    expect(messageNotifications(m)).toEqual([]);
    expect(messageLinks(m)).toEqual([]);
  });

  test('"View in alertbus" links to the incident\'s page only when the history\'s public URL is configured', () => {
    expect(buttons(renderRoot(base).blocks).map((b) => b.action_id)).not.toContain(VIEW_ACTION_ID);
    const open = buttons(renderRoot(base, [], { historyUrl: 'https://alertbus.example/' }).blocks);
    expect(open.find((b) => b.action_id === VIEW_ACTION_ID)).toMatchObject({
      url: 'https://alertbus.example/?incident=1b4e28ba-2fa1-81d2-883f-0016d3cca427',
    });
    const resolved = buttons(renderRoot({ ...base, status: 'resolved', resolvedAt: '2025-03-01T11:00:00.000Z' }, [], { historyUrl: 'https://alertbus.example' }).blocks);
    expect(resolved.map((b) => b.action_id)).toEqual([VIEW_ACTION_ID]);
  });
});
