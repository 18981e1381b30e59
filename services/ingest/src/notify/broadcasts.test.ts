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
  expect(structureWithoutBroadcasts(blocks, 'blocks')).toEqual([
    { type: 'section', text: { type: 'mrkdwn', text: '&lt;!channel>' }, fields: [{ type: 'mrkdwn', text: '&lt;!subteam^S1>' }] },
    { type: 'header', text: { type: 'plain_text', text: '<!channel>' } },
    { type: 'divider' },
  ]);
  expect(structureWithoutBroadcasts([{ color: '#f00', text: '<!here>', ts: 1, short: true, none: null }], 'attachments')).toEqual([
    { color: '#f00', text: '&lt;!here>', ts: 1, short: true, none: null },
  ]);
});

test('an object that only says "type": "plain_text" (an attachment, blocks inside it) is walked: its mentions are escaped', () => {
  const attachment = {
    type: 'plain_text',
    text: '<!channel> attachment text',
    pretext: '<!here>',
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '<!here> in blocks' } }],
  };
  expect(structureWithoutBroadcasts([attachment, { text: '<!channel> normal attachment' }], 'attachments')).toEqual([
    {
      type: 'plain_text',
      text: '&lt;!channel> attachment text',
      pretext: '&lt;!here>',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '&lt;!here> in blocks' } }],
    },
    { text: '&lt;!channel> normal attachment' },
  ]);
  // A real plain_text object, emoji and verbatim included, stays as sent: Slack shows it as written.
  const header = { type: 'header', text: { type: 'plain_text', text: '<!channel> deploy', emoji: true } };
  expect(structureWithoutBroadcasts([header], 'blocks')).toEqual([header]);
});

test('an attachment shaped exactly like a plain_text object is escaped: Slack reads its text as mrkdwn, whatever its type', () => {
  const attachments = [
    { type: 'plain_text', text: '<!channel> deploy failed' },
    { type: 'plain_text', text: '<!here> deploy failed', emoji: true, verbatim: false },
  ];
  const escaped = structureWithoutBroadcasts(attachments, 'attachments');
  expect(escaped).toEqual([
    { type: 'plain_text', text: '&lt;!channel> deploy failed' },
    { type: 'plain_text', text: '&lt;!here> deploy failed', emoji: true, verbatim: false },
  ]);
  expect(messageNotifications({ text: 'x', attachments: escaped })).toEqual([]);
  // In an attachment's blocks, Block Kit again: a header's plain_text stays as sent.
  const withBlocks = [{ color: '#f00', text: '<!here>', blocks: [{ type: 'header', text: { type: 'plain_text', text: '<!channel> deploy' } }] }];
  expect(structureWithoutBroadcasts(withBlocks, 'attachments')).toEqual([
    { color: '#f00', text: '&lt;!here>', blocks: [{ type: 'header', text: { type: 'plain_text', text: '<!channel> deploy' } }] },
  ]);
});

test('structureWithoutBroadcasts makes rich_text broadcast and user-group elements text, at any depth, keeping their style', () => {
  const section = (...elements: unknown[]) => ({ type: 'rich_text_section', elements });
  const blocks = [
    {
      type: 'rich_text',
      elements: [
        section({ type: 'broadcast', range: 'channel' }, { type: 'broadcast', range: 'everyone' }, { type: 'usergroup', usergroup_id: 'S0SRE' }),
        { type: 'rich_text_list', style: 'bullet', elements: [section({ type: 'broadcast', range: 'here', style: { bold: true } })] },
        { type: 'rich_text_quote', elements: [{ type: 'usergroup', usergroup_id: 'S0DBA', style: { italic: true } }, { type: 'user', user_id: 'U0ALICE' }] },
        { type: 'rich_text_preformatted', elements: [{ type: 'broadcast', range: 'channel' }] },
      ],
    },
  ];
  expect(messageNotifications({ blocks })).toEqual(['@channel', '@everyone', 'subteam:S0SRE', '@here', 'subteam:S0DBA', 'user:U0ALICE']);
  const escaped = structureWithoutBroadcasts(blocks, 'blocks');
  expect(escaped).toEqual([
    {
      type: 'rich_text',
      elements: [
        section({ type: 'text', text: '@channel' }, { type: 'text', text: '@everyone' }, { type: 'text', text: '@S0SRE' }),
        { type: 'rich_text_list', style: 'bullet', elements: [section({ type: 'text', text: '@here', style: { bold: true } })] },
        { type: 'rich_text_quote', elements: [{ type: 'text', text: '@S0DBA', style: { italic: true } }, { type: 'user', user_id: 'U0ALICE' }] },
        { type: 'rich_text_preformatted', elements: [{ type: 'text', text: '@channel' }] },
      ],
    },
  ]);
  // One person stays mentioned, as `<@U…>` does in mrkdwn.
  expect(messageNotifications({ blocks: escaped })).toEqual(['user:U0ALICE']);
});
