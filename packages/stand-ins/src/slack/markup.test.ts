import { messageLinks, messageNotifications, mrkdwnTexts, parseMarkup } from './markup';

describe('how Slack reads a message: its special sequences and who they notify', () => {
  test('mentions, broadcasts, channels and links, with or without a label', () => {
    expect(parseMarkup('hi <!channel|@channel> <!here> <!subteam^S0SRE|@sre> <@U1|ann> <#C1|ops> <https://x.example/?a=1&amp;b|go> <!date^1^{date}|x> a &lt; b <unclosed').map((t) => t.kind)).toEqual([
      'broadcast',
      'broadcast',
      'usergroup',
      'user',
      'channel',
      'link',
      'other',
    ]);
  });

  test('the top-level text and mrkdwn objects count; plain_text does not', () => {
    const message = {
      text: '<@U1> top',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: '<!channel> shown as written' } },
        { type: 'section', text: { type: 'mrkdwn', text: '<!here>' }, fields: [{ type: 'mrkdwn', text: '<https://x.example|x>' }] },
        { type: 'context', elements: [{ type: 'mrkdwn', text: '<!subteam^S2>' }] },
      ],
    };
    expect(mrkdwnTexts(message)).toEqual(['<@U1> top', '<!here>', '<https://x.example|x>', '<!subteam^S2>']);
    expect(messageNotifications(message)).toEqual(['user:U1', '@here', 'subteam:S2']);
    expect(messageLinks(message)).toEqual([{ url: 'https://x.example', label: 'x' }]);
  });

  test('rich_text mention elements notify at any depth; text elements are shown as written', () => {
    const message = {
      text: 'fallback',
      blocks: [
        {
          type: 'rich_text',
          elements: [
            { type: 'rich_text_section', elements: [{ type: 'broadcast', range: 'channel' }, { type: 'text', text: '<!here> @everyone' }] },
            { type: 'rich_text_list', style: 'bullet', elements: [{ type: 'rich_text_section', elements: [{ type: 'usergroup', usergroup_id: 'S0SRE' }] }] },
            { type: 'rich_text_quote', elements: [{ type: 'user', user_id: 'U1' }] },
          ],
        },
      ],
      attachments: [{ blocks: [{ type: 'rich_text', elements: [{ type: 'rich_text_section', elements: [{ type: 'broadcast', range: 'everyone' }] }] }] }],
    };
    expect(messageNotifications(message)).toEqual(['@channel', 'subteam:S0SRE', 'user:U1', '@everyone']);
  });
});
