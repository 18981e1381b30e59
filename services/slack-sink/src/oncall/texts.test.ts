import { cacheClearedText, escapeMrkdwn, onCallReplyText, type OnCallResolution } from './texts';

const found: OnCallResolution = {
  schedule: 'ops',
  outcome: 'mentioned',
  emails: ['alice@example.com', 'bob@example.com'],
  slackUserIds: ['U0ALICE', 'U0BOB'],
  unmatchedEmails: [],
  cached: false,
};

describe('on-call reply texts', () => {
  test('mentions exactly the on-call Slack users', () => {
    expect(onCallReplyText({}, found)).toBe('On call for *ops*: <@U0ALICE> <@U0BOB>');
  });

  test('a template from the rule, with the requester', () => {
    expect(onCallReplyText({ replyTemplate: '{requester} {mentions} will help ({schedule})', requester: 'U0ASK' }, found)).toBe(
      '<@U0ASK> <@U0ALICE> <@U0BOB> will help (ops)',
    );
  });

  test('names on-call people without a Slack account', () => {
    expect(onCallReplyText({}, { ...found, slackUserIds: ['U0ALICE'], unmatchedEmails: ['bob@example.com'] })).toBe(
      'On call for *ops*: <@U0ALICE>\n(Also on call, without a Slack account for their email: bob@example.com.)',
    );
  });

  test('nobody on call, and a failed lookup, are said plainly', () => {
    expect(onCallReplyText({}, { ...found, outcome: 'nobody-on-call', emails: [], slackUserIds: [] })).toBe(
      'Nobody is on call for *ops* right now.',
    );
    expect(
      onCallReplyText({}, { ...found, schedule: 'a<b>', outcome: 'lookup-failed', slackUserIds: [], error: 'HTTP 404 Schedule <x> does not exist' }),
    ).toBe('I could not find out who is on call for *a&lt;b&gt;*: HTTP 404 Schedule &lt;x&gt; does not exist.');
  });

  test('the last known on-call (Opsgenie down): said to be that, with when and why; the error escaped and bounded', () => {
    const last: OnCallResolution = { ...found, outcome: 'last-known', cached: true, knownAt: '2026-12-05T04:58:00.000Z', error: 'HTTP 503 <!channel>' };
    expect(onCallReplyText({ replyTemplate: '{mentions} will help' }, last)).toBe(
      'I could not find out who is on call for *ops* now (HTTP 503 &lt;!channel&gt;). Last known on call (as of 2026-12-05 04:58 UTC): <@U0ALICE> <@U0BOB>',
    );
    expect(onCallReplyText({}, { ...last, slackUserIds: ['U0ALICE'], unmatchedEmails: ['bob@example.com'] })).toMatch(
      /: <@U0ALICE>\n\(Also on call then, without a Slack account for their email: bob@example\.com\.\)$/,
    );
    // An API can send a long body: cut after escaping, never inside an entity.
    const long = `HTTP 500 ${'<'.repeat(5_000)}`;
    for (const r of [{ ...last, error: long }, { ...found, outcome: 'lookup-failed' as const, slackUserIds: [], error: long }]) {
      const text = onCallReplyText({}, r);
      expect(text.length).toBeLessThan(500);
      expect(text).toMatch(/(&lt;)+…/);
      expect(text).not.toMatch(/&[a-z]{0,3}…/);
    }
  });

  test('cache clear confirmation', () => {
    expect(cacheClearedText('U0ASK', ['ops', 'platform'])).toBe(
      'The on-call cache is cleared (2 schedules), as <@U0ASK> asked: the next lookup asks Opsgenie again.',
    );
    expect(cacheClearedText('U0ASK', [], 'ops')).toContain('The on-call cache of *ops* is cleared');
  });

  test('escapeMrkdwn', () => {
    expect(escapeMrkdwn('<@U1> & co')).toBe('&lt;@U1&gt; &amp; co');
  });

  test('only Slack user ids become mentions; a schedule name is inserted as written, never re-read as a template', () => {
    expect(onCallReplyText({ replyTemplate: '{requester} {mentions} ({schedule})', requester: '<!channel>' }, { ...found, schedule: "$& {mentions} <!here>" })).toBe(
      '&lt;!channel&gt; <@U0ALICE> <@U0BOB> ($&amp; {mentions} &lt;!here&gt;)',
    );
    expect(cacheClearedText('B0OTHERBOT', [])).toBe('The on-call cache is cleared (0 schedules), as B0OTHERBOT asked: the next lookup asks Opsgenie again.');
  });
});
