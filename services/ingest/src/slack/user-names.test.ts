import { startSlackStandIn, type SlackStandIn } from '@alertbus/stand-ins';
import { SlackUserNames } from './user-names';

let slack: SlackStandIn;

beforeAll(async () => {
  slack = await startSlackStandIn({
    tokens: ['xoxb-names'],
    users: [{ id: 'U0DANA', name: 'dana', realName: 'Dana Ops', email: 'dana@example.com' }],
  });
});
afterAll(() => slack.close());

const infoCalls = () => slack.state.calls.filter((c) => c.method === 'users.info').length;

test('resolves a requester id to the display name, once per person', async () => {
  const names = new SlackUserNames({ apiUrl: slack.url, botToken: 'xoxb-names' });
  const before = infoCalls();
  expect(await names.name('U0DANA')).toBe('dana');
  expect(await Promise.all([names.name('U0DANA'), names.name('U0DANA')])).toEqual(['dana', 'dana']);
  expect(infoCalls() - before).toBe(1);
});

test('an unknown user, a wrong token or an unreachable Slack give no name, never an error', async () => {
  expect(await new SlackUserNames({ apiUrl: slack.url, botToken: 'xoxb-names' }).name('U0NOBODY')).toBeUndefined();
  expect(await new SlackUserNames({ apiUrl: slack.url, botToken: 'xoxb-wrong' }).name('U0DANA')).toBeUndefined();
  expect(await new SlackUserNames({ apiUrl: 'http://127.0.0.1:1/api/', botToken: 'xoxb-names' }).name('U0DANA')).toBeUndefined();
});
