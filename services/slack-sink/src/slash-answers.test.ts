import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { DeliveryError } from '@alertbus/common';
import { GivenUpError } from '@alertbus/sink-runtime';
import { responseUrlOrigins } from '@alertbus/normalise';
import { messageNotifications } from '@alertbus/stand-ins';
import { incidentsText, LIST_MAX, postToResponseUrl, responseUrlRefusal, silencesText, SlashAnswers, teamOfResponseUrl, type SlashAnswerCommand } from './slash-answers';

const HOSTILE = 'disk full <!channel> <@U123> <https://evil.example|ok> & `tick`';

const incident = (n: number, more: Record<string, unknown> = {}) => ({
  incident_id: `i-${n}`,
  alias: `generic:${n}`,
  title: `incident ${n}`,
  severity: 'critical',
  status: 'open',
  acknowledged_by: null,
  acknowledged_in: null,
  opened_at: '2026-11-30T09:00:00.000Z',
  ...more,
});

describe('slash command answers read from the history API', () => {
  test('an incident list names each incident by its alias (to ack or resolve it by), and escapes what the alert said', () => {
    const text = incidentsText([incident(1, { title: HOSTILE, alias: 'generic:<!here>', status: 'acknowledged', acknowledged_by: 'U0BOB' })], 'open');
    expect(text).toBe(
      'Open incidents (1):\n' +
        '• disk full &lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|ok&gt; &amp; `tick` — `generic:&lt;!here&gt;` · critical · acknowledged by <@U0BOB> · since 2026-11-30T09:00:00.000Z',
    );
    expect(text).not.toMatch(/<[!h]|<@U123/);
  });

  test(`at most ${LIST_MAX} lines, the rest counted; nothing to list is said plainly`, () => {
    const text = incidentsText(Array.from({ length: LIST_MAX + 3 }, (_, i) => incident(i)), 'open');
    expect(text.split('\n').filter((l) => l.startsWith('• '))).toHaveLength(LIST_MAX);
    expect(text).toContain('…and 3 more');
    expect(incidentsText([], 'mine')).toBe('No open incident is yours (acknowledged by you, or asked for by you).');
    expect(silencesText([])).toBe('No active or pending silences.');
  });

  test('a list cut at Slack\'s limit ends in neither half an escape nor half an emoji', () => {
    const cut = incidentsText(Array.from({ length: 15 }, (_, i) => incident(i, { title: '&'.repeat(200 + i) })), 'open');
    expect(Array.from(cut).length).toBeLessThanOrEqual(3_000);
    expect(cut).toMatch(/(&amp;)+…$/);
    // An alias is shown as code, cut at 200 code points: an emoji across the cut stays whole.
    const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
    const whole = incidentsText([incident(1, { alias: `${'a'.repeat(198)}😀😀` })], 'open');
    expect(whole).toContain(`\`${'a'.repeat(198)}😀😀\``); // 200 code points: not cut
    const cutAlias = incidentsText([incident(1, { alias: `${'a'.repeat(198)}😀😀😀` })], 'open');
    expect(cutAlias).toContain(`\`${'a'.repeat(198)}😀…\``);
    for (const t of [whole, cutAlias]) expect(t).not.toMatch(lone);
  });

  test('a silence shows its id (to unsilence it by), its matchers as code, and its comment escaped', () => {
    const text = silencesText([
      { silence_id: 'slack-abc', matchers: ['alertname="DiskFull"', 'x=~"`a`"'], state: 'active', starts_at: 's', ends_at: '2026-11-30T10:00:00.000Z', comment: HOSTILE, created_by: 'slack:U0ALICE' },
      { silence_id: 'm1', matchers: ['env="prod"'], state: 'pending', starts_at: '2026-12-01T00:00:00.000Z', ends_at: '2026-12-01T02:00:00.000Z', comment: 'upgrade', created_by: 'ops-token' },
    ]);
    expect(text.split('\n')).toEqual([
      'Silences (2):',
      '• `slack-abc` `alertname="DiskFull"` `x=~"\'a\'"` now until 2026-11-30T10:00:00.000Z — disk full &lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|ok&gt; &amp; `tick` (<@U0ALICE>)',
      '• `m1` `env="prod"` from 2026-12-01T00:00:00.000Z until 2026-12-01T02:00:00.000Z — upgrade (ops-token)',
    ]);
  });

  test('an answer posted to the channel (--public) names people without notifying them; a private one may mention', () => {
    const rows = [incident(1, { status: 'acknowledged', acknowledged_by: 'U0ACKER1' }), incident(2, { status: 'acknowledged', acknowledged_by: 'slack:U0ACKER2' })];
    const publicText = incidentsText(rows, 'open', true);
    expect(publicText).toContain('acknowledged by `U0ACKER1`');
    expect(messageNotifications({ text: publicText })).toEqual([]);
    expect(incidentsText(rows, 'open')).toContain('acknowledged by <@U0ACKER1>');
    const silence = [{ silence_id: 's1', matchers: ['env="prod"'], state: 'active', starts_at: 's', ends_at: 'e', comment: 'c', created_by: 'slack:U0ALICE' }];
    expect(messageNotifications({ text: silencesText(silence, true) })).toEqual([]);
  });
});

describe('who acted, as the answers name them: a Slack user is mentioned only when the history says the act was in Slack', () => {
  test("a pager's username is text, whatever it looks like: an Opsgenie user called U0CEO1234 mentions nobody", () => {
    const row = incident(1, { status: 'acknowledged', acknowledged_by: 'U0CEO1234', acknowledged_by_name: 'U0CEO1234', acknowledged_in: 'opsgenie' });
    for (const publicAnswer of [false, true]) {
      const text = incidentsText([row], 'open', publicAnswer);
      expect(text).toContain('acknowledged by U0CEO1234 in opsgenie ·');
      expect(messageNotifications({ text })).toEqual([]);
    }
    const hostile = incidentsText([incident(2, { status: 'acknowledged', acknowledged_by: '<!channel> <@U0CEO1234>', acknowledged_in: 'jsm' })], 'open');
    expect(hostile).toContain('acknowledged by &lt;!channel&gt; &lt;@U0CEO1234&gt; in jsm ·');
    expect(messageNotifications({ text: hostile })).toEqual([]);
  });

  test('a history that does not say where the incident was acknowledged names nobody as a Slack user', () => {
    const { acknowledged_in: _unsaid, ...row } = incident(1, { status: 'acknowledged', acknowledged_by: 'U0CEO1234' });
    const text = incidentsText([row], 'open');
    expect(text).toContain('acknowledged by U0CEO1234 ·');
    expect(messageNotifications({ text })).toEqual([]);
  });

  test("a silence's creator is a mention only when made in Slack (slack:U…); a token's name is text", () => {
    const silence = (created_by: string) => ({ silence_id: 's1', matchers: ['env="prod"'], state: 'active', starts_at: 's', ends_at: 'e', comment: 'c', created_by });
    expect(silencesText([silence('U0CEO1234')])).toContain('(U0CEO1234)');
    expect(messageNotifications({ text: silencesText([silence('U0CEO1234')]) })).toEqual([]);
    expect(silencesText([silence('slack:U0ALICE')])).toContain('(<@U0ALICE>)');
  });
});

describe('`/alertbus incidents mine`', () => {
  let server: Server;
  let url: string;
  const posted: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        posted.push((JSON.parse(body) as { text: string }).text);
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/commands/T0/1/mine`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  test('lists what the requester acknowledged in Slack, not what a pager user of the same name acknowledged', async () => {
    const rows = [
      incident(1, { title: 'acked in slack', status: 'acknowledged', acknowledged_by: 'U0ASKER' }),
      incident(2, { title: 'acked in opsgenie', status: 'acknowledged', acknowledged_by: 'U0ASKER', acknowledged_in: 'opsgenie' }),
      incident(3, { title: 'asked for in slack', source: 'slack', labels: { user: 'U0ASKER' } }),
    ];
    const history = { get: async (_path: string, q?: Record<string, string | number | undefined>) => ({ incidents: rows.filter((r) => r.status === q?.status) }) };
    const answers = new SlashAnswers({ log: pino({ level: 'silent' }), timeoutMs: 5_000, history, responseUrlOrigins: responseUrlOrigins(new URL('/api/', url).href) });
    const command = {
      id: 'c-mine',
      type: 'AnswerSlashCommand',
      alias: 'slash:mine',
      occurredAt: new Date().toISOString(),
      data: { rule: { path: 'default', rulesVersion: 't' }, responseUrl: url, responseType: 'ephemeral', requester: 'U0ASKER', answer: { kind: 'incidents', filter: 'mine' } },
    } as unknown as SlashAnswerCommand;
    await answers.execute(command, 1);
    expect(posted).toHaveLength(1);
    expect(posted[0]).toMatch(/^Incidents of yours \(2\):/);
    expect(posted[0]).toContain('acked in slack');
    expect(posted[0]).toContain('asked for in slack');
    expect(posted[0]).not.toContain('acked in opsgenie');
  });
});

describe('what Slack says about a response_url', () => {
  test('used up or expired (404, 410, used_url, expired_url) is a refusal of the URL; other answers are not', () => {
    expect(responseUrlRefusal(404, 'used_url')).toBe('response-url-used');
    expect(responseUrlRefusal(404, 'expired_url')).toBe('response-url-expired');
    expect(responseUrlRefusal(404, '')).toBe('response-url-expired');
    expect(responseUrlRefusal(410, 'gone')).toBe('response-url-expired');
    expect(responseUrlRefusal(400, 'no_text')).toBeUndefined();
    expect(responseUrlRefusal(403, 'invalid_token')).toBeUndefined();
  });

  test('the workspace of a response_url, for a command that names none', () => {
    expect(teamOfResponseUrl('https://hooks.slack.com/commands/T0001ABC/1234/xyz')).toBe('T0001ABC');
    expect(teamOfResponseUrl('https://hooks.slack.com/actions/E0ORG/1/2')).toBe('E0ORG');
    expect(teamOfResponseUrl('https://evil.example/commands/T0001/1/x')).toBeUndefined();
    expect(teamOfResponseUrl('http://127.0.0.1:9/commands/T0001/1/x')).toBeUndefined();
  });
});

describe('an answer whose response_url asks to wait', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.writeHead(429, { 'retry-after': req.url?.endsWith('/long') ? '3600' : '1' }).end('rate_limited');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/commands/T0/1`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  // The server stands in for Slack's hooks host: its origin is SLACK_API_URL's, as a local stand-in's is.
  const answers = () =>
    new SlashAnswers({ log: pino({ level: 'silent' }), timeoutMs: 5_000, responseUrlOrigins: responseUrlOrigins(new URL('/api/', url).href) });
  const command = (responseUrl: string) =>
    ({
      id: 'c-1',
      type: 'AnswerSlashCommand',
      alias: 'generic:1',
      occurredAt: new Date().toISOString(),
      data: { rule: { path: 'default', rulesVersion: 't' }, responseUrl, responseType: 'ephemeral', requester: 'U0ASKER', answer: { kind: 'text', text: 'ok' } },
    }) as unknown as SlashAnswerCommand;

  test('waits for a Retry-After that ends while the response_url lives', async () => {
    const err = await answers().execute(command(`${url}/short`), 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err).not.toBeInstanceOf(GivenUpError);
    expect(err).toMatchObject({ permanent: false, httpStatus: 429, retryAfterMs: 1_000 });
  });

  test('is given up at once when the Retry-After ends after the response_url has expired', async () => {
    const err = await answers().execute(command(`${url}/long`), 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GivenUpError);
    expect(err).toMatchObject({ reason: 'response-url-expired', permanent: true });
  });
});

describe('a server that repeats the response_url in its answer (the URL\'s path is its secret)', () => {
  const SECRET = 'Zq9secretPart0123';
  const PATH = `/commands/T0ECHO/1234/${SECRET}`;
  let server: Server;
  let origin: string;
  beforeAll(async () => {
    // What it answers is in the path's first part after the origin: /<status>/<how>/commands/…
    server = createServer((req, res) => {
      const [, status, how] = (req.url ?? '').split('/');
      const path = (req.url ?? '').slice(`/${status}/${how}`.length);
      const bodies: Record<string, string> = {
        route: JSON.stringify({ message: `Route POST:${req.url} not found`, error: 'Not Found', statusCode: Number(status) }),
        encoded: `no such hook: ${encodeURIComponent(path)}`,
        url: `<html><body>https://hooks.example${req.url} is gone</body></html>`,
        plain: 'no_service',
      };
      res.writeHead(Number(status), { 'content-type': 'text/plain' }).end(bodies[how!] ?? '');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const logged: string[] = [];
  const answers = () =>
    new SlashAnswers({
      log: pino({ level: 'debug' }, { write: (line: string) => void logged.push(line) }),
      timeoutMs: 5_000,
      responseUrlOrigins: responseUrlOrigins(`${origin}/api/`),
    });
  const command = (responseUrl: string) =>
    ({
      id: 'c-echo',
      type: 'AnswerSlashCommand',
      alias: 'generic:1',
      occurredAt: new Date().toISOString(),
      data: { rule: { path: 'default', rulesVersion: 't' }, responseUrl, responseType: 'ephemeral', requester: 'U0ASKER', answer: { kind: 'text', text: 'ok' } },
    }) as unknown as SlashAnswerCommand;

  test.each([
    // [status, how the path is repeated, the error's class, what its message still says]
    [404, 'route', GivenUpError, /^response-url-expired: response_url answered 404\b/],
    [400, 'encoded', DeliveryError, /^response_url answered 400\b/],
    [410, 'url', GivenUpError, /^response-url-expired: response_url answered 410\b/],
    [503, 'route', DeliveryError, /^response_url answered 503\b/],
  ])('a %i repeating it (%s) leaves it out of the error a DeliveryFailed records and of the log', async (status, how, type, message) => {
    logged.length = 0;
    const url = `${origin}/${status}/${how}${PATH}`;
    const err = (await answers()
      .execute(command(url), 1)
      .catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(type);
    expect(err.message).toMatch(message);
    for (const text of [err.message, ...logged]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('T0ECHO%2F1234');
      expect(text).not.toContain('1234/');
    }
  });

  test('a post that fails before any answer leaves it out too (fetch names the URL it could not read)', async () => {
    const err = (await postToResponseUrl(`http//hooks.slack.com${PATH}`, { text: 'x' }, 5_000).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err.message).toMatch(/^response_url: Failed to parse URL from \[response_url\]$/);
  });

  test('Slack\'s own short answers are kept: they say why', async () => {
    const err = (await answers()
      .execute(command(`${origin}/404/plain${PATH}`), 1)
      .catch((e: unknown) => e)) as Error;
    expect(err.message).toBe('response-url-expired: response_url answered 404 no_service');
  });
});

describe('a response_url that answers far more than is kept', () => {
  const TOTAL = 64 * 1024 * 1024;
  let server: Server;
  let url: string;
  let written = 0;
  let closedEarly = false;
  beforeAll(async () => {
    // 64 MiB of an error page, written as fast as the reader takes it.
    server = createServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      res.on('close', () => (closedEarly = written < TOTAL));
      const more = () => {
        while (written < TOTAL && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        if (!res.destroyed) res.end();
      };
      more();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/commands/T0/1/big`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  test('is read only as far as the 200 characters an error keeps: the rest is not received', async () => {
    const err = (await postToResponseUrl(url, { text: 'x' }, 60_000).catch((e: unknown) => e)) as DeliveryError;
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err.message).toMatch(/^response_url answered 500\b/);
    await new Promise((r) => setTimeout(r, 100));
    expect(closedEarly).toBe(true);
    expect(written).toBeLessThan(TOTAL);
  });
});
