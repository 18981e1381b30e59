import { responseUrlHost, responseUrlOrigins, responseUrlProblem, SLACK_RESPONSE_URL_HOSTS } from './response-url';

describe('which response_urls are posted to', () => {
  const slack = responseUrlOrigins('https://slack.com/api/');

  test.each([
    // The slash command of Slack's signing docs (fixtures/slack/slash_command_signed_body.txt) and an interaction's.
    'https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN',
    'https://hooks.slack.com/actions/AABA1ABCD/1232321423432/D09sSasdasdAS9091209',
    'https://hooks.slack.com:443/commands/T1/2/x',
    'https://HOOKS.SLACK.COM/commands/T1/2/x',
    'https://hooks.slack-gov.com/commands/T1/2/x',
  ])('%s: Slack\'s', (url) => {
    expect(responseUrlProblem(url, slack)).toBeUndefined();
  });

  test.each([
    ['http://hooks.slack.com/commands/T1/2/secret', 'http://hooks.slack.com'],
    ['https://hooks.slack.com.evil.example/commands/T1/2/secret', 'https://hooks.slack.com.evil.example'],
    ['https://evil.example/hooks.slack.com/commands/T1/2/secret', 'https://evil.example'],
    ['https://hooks.slack.com:8443/commands/T1/2/secret', 'https://hooks.slack.com:8443'],
    ['https://slack.com/api/chat.postMessage', 'https://slack.com'],
    ['http://127.0.0.1:8090/_stand-in/response/secret', 'http://127.0.0.1:8090'],
    ['http://169.254.169.254/latest/meta-data', 'http://169.254.169.254'],
  ])('%s: refused, naming %s and never the path', (url, origin) => {
    const problem = responseUrlProblem(url, slack);
    expect(problem).toBe(`response_url is on ${origin}, not on Slack's response-URL hosts: only https://hooks.slack.com, https://hooks.slack-gov.com are posted to`);
    expect(problem).not.toContain('secret');
  });

  test('credentials before the host, another scheme, or no URL at all are refused without echoing them', () => {
    expect(responseUrlProblem('https://user:s3cret@hooks.slack.com/commands/T1/2/x', slack)).toMatch(/^response_url carries credentials/);
    expect(responseUrlProblem('https://user:s3cret@hooks.slack.com/commands/T1/2/x', slack)).not.toContain('s3cret');
    expect(responseUrlProblem('javascript:alert(1)', slack)).toMatch(/^response_url is on a javascript: URL/);
    expect(responseUrlProblem('file:///etc/passwd', slack)).toMatch(/^response_url is on a file: URL/);
    expect(responseUrlProblem('hooks.slack.com/commands/T1/2/s3cret', slack)).toBe('response_url is not a URL');
  });

  test('SLACK_API_URL on a stand-in adds its origin, and that origin only', () => {
    const standIn = responseUrlOrigins('http://127.0.0.1:8090/api/');
    expect([...standIn]).toEqual([...SLACK_RESPONSE_URL_HOSTS.map((h) => `https://${h}`), 'http://127.0.0.1:8090']);
    expect(responseUrlProblem('http://127.0.0.1:8090/_stand-in/response/T0/1', standIn)).toBeUndefined();
    expect(responseUrlProblem('http://127.0.0.1:8091/_stand-in/response/T0/1', standIn)).toMatch(/^response_url is on http:\/\/127\.0\.0\.1:8091,/);
    expect(responseUrlProblem('http://localhost:8090/_stand-in/response/T0/1', standIn)).toMatch(/^response_url is on http:\/\/localhost:8090,/);
  });

  test('Slack\'s own API URL (commercial or GovSlack) adds nothing; no API URL means Slack\'s hosts alone', () => {
    for (const api of ['https://slack.com/api/', 'https://api.slack-gov.com/api/', 'https://acme.slack.com/api/', undefined]) {
      expect([...responseUrlOrigins(api)]).toEqual(['https://hooks.slack.com', 'https://hooks.slack-gov.com']);
    }
  });

  test('the host of a response_url, for a log line, without its path', () => {
    expect(responseUrlHost('https://hooks.slack.com/commands/T1/2/secret')).toBe('hooks.slack.com');
    expect(responseUrlHost('http://127.0.0.1:8090/x/secret')).toBe('127.0.0.1:8090');
    expect(responseUrlHost('not a url')).toBeUndefined();
  });
});
