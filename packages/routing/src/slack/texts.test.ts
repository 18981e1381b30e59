/** Slack request text is data: it reaches Slack escaped, and only ids Slack itself gave us are written as mentions. */
import { messageNotifications } from '@alertbus/stand-ins';
import { helpText } from './commands';
import { acknowledgedText, editedNote, onCallAcknowledgement, requestDescription, requestTitle, resolvedByText } from './texts';

describe('Slack request text in the router\'s answers', () => {
  test("a request's title is what the person wrote, as plain text: Slack's own escapes undone once", () => {
    expect(requestTitle('<@U0BOT> a &lt; b &amp;&amp; c &gt; d')).toBe('a < b && c > d');
    expect(requestTitle('<@U0BOT> literally &amp;lt;')).toBe('literally &lt;'); // the person typed "&lt;"
    expect(requestDescription({ text: '<@U0BOT> db &lt;prod&gt; down', user: 'U0ALICE', channel: 'C0OPS' })).toMatch(/^db <prod> down\n/);
    expect(editedNote('U0ALICE', '<@U0BOT> now &lt;b&gt;')).toBe('The Slack message was edited by U0ALICE. It now says:\nnow <b>');
  });

  test('quoted back into a thread it is escaped once, so what was typed is what is shown, and pings nobody', () => {
    const title = requestTitle('<@U0BOT> <!channel> <https://evil.example|Acknowledge> a &lt; b');
    const reply = resolvedByText('U0ALICE', title);
    expect(reply).toBe('Resolved by <@U0ALICE>: &lt;!channel&gt; &lt;https://evil.example|Acknowledge&gt; a &lt; b');
    expect(messageNotifications({ text: reply })).toEqual(['user:U0ALICE']); // who resolved: an id from Slack's signed request
    expect(messageNotifications({ text: acknowledgedText('<!channel>') })).toEqual([]); // anything else is text
  });

  test('schedule names (a rule, ONCALL_SCHEDULE, or typed in `oncall <schedule>`) are escaped', () => {
    expect(onCallAcknowledgement('<!here>')).toBe('Looking for the on-call of *&lt;!here&gt;*…');
    expect(helpText('ops <!channel>')).toContain('on-call of *ops &lt;!channel&gt;*');
    expect(messageNotifications({ text: helpText('<!channel>') })).toEqual([]);
  });
});
