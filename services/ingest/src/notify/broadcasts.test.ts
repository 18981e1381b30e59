import { messageNotifications } from '@alertbus/stand-ins';
import { structureWithoutBroadcasts, withoutBroadcasts } from './broadcasts';

describe('withoutBroadcasts', () => {
  test.each([
    ['<!channel> deploy', '&lt;!channel> deploy'],
    ['<!here|here> and <!everyone>', '&lt;!here|here> and &lt;!everyone>'],
    ['<!group>', '&lt;!group>'],
    ['<!subteam^S0SRE|@sre> look', '&lt;!subteam^S0SRE|@sre> look'],
    ['<!HERE>', '&lt;!HERE>'],
    // Left as sent: one person, a channel link, a date, links, plain words.
    ['<@U0ALICE> <#C0OPS> <!date^1392734382^{date}|Feb 18> <https://x.example|x>', '<@U0ALICE> <#C0OPS> <!date^1392734382^{date}|Feb 18> <https://x.example|x>'],
    ['@channel @here', '@channel @here'],
  ])('%j → %j', (text, expected) => {
    expect(withoutBroadcasts(text)).toBe(expected);
    expect(messageNotifications({ text: withoutBroadcasts(text) }).filter((n) => !n.startsWith('user:'))).toEqual([]);
  });

  test('every opening of a text made of nothing else is escaped', () => {
    const text = '<!here'.repeat(2_000);
    expect(withoutBroadcasts(text)).toBe('&lt;!here'.repeat(2_000));
  });
});

test('structureWithoutBroadcasts escapes every mrkdwn string and keeps plain_text objects as sent', () => {
  const blocks = [
    { type: 'section', text: { type: 'mrkdwn', text: '<!channel>' }, fields: [{ type: 'mrkdwn', text: '<!subteam^S1>' }] },
    { type: 'header', text: { type: 'plain_text', text: '<!channel>' } },
    { type: 'divider' },
  ];
  expect(structureWithoutBroadcasts(blocks)).toEqual([
    { type: 'section', text: { type: 'mrkdwn', text: '&lt;!channel>' }, fields: [{ type: 'mrkdwn', text: '&lt;!subteam^S1>' }] },
    { type: 'header', text: { type: 'plain_text', text: '<!channel>' } },
    { type: 'divider' },
  ]);
  expect(structureWithoutBroadcasts([{ color: '#f00', text: '<!here>', ts: 1, short: true, none: null }])).toEqual([
    { color: '#f00', text: '&lt;!here>', ts: 1, short: true, none: null },
  ]);
});
