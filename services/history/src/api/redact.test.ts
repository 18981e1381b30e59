/** What readers of the API see of the events' data: raw payloads and response URLs for admins, credentials for nobody. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ADMIN_ONLY, REDACTED, redact } from './redact';

const fixture = (p: string) => JSON.parse(readFileSync(resolve(__dirname, '../../../../../shared/fixtures', p), 'utf8')) as Record<string, any>;

const viewer = { admin: false };
const admin = { admin: true };

/** Every string found anywhere in a value. */
function strings(value: unknown): string[] {
  return JSON.stringify(value).match(/"(?:[^"\\]|\\.)*"/g)?.map((s) => JSON.parse(s) as string) ?? [];
}

describe('redact', () => {
  const click = fixture('slack/block_actions_button_docs_example.json');
  const action = {
    actionId: 'alertbus_ack',
    responseUrl: click.response_url,
    triggerId: click.trigger_id,
    user: { id: 'UA8RXUSPL', name: 'jtorrance' },
    raw: click,
  };

  it('a Slack action: raw, the response URL and the trigger id are for admins only; the verification token for nobody', () => {
    expect(redact(action, viewer)).toEqual({
      actionId: 'alertbus_ack',
      responseUrl: ADMIN_ONLY,
      triggerId: ADMIN_ONLY,
      user: { id: 'UA8RXUSPL', name: 'jtorrance' },
      raw: ADMIN_ONLY,
    });

    const seen = redact(action, admin) as typeof action;
    expect(seen.responseUrl).toBe(click.response_url);
    expect(seen.triggerId).toBe(click.trigger_id);
    expect(seen.raw).toEqual({ ...click, token: REDACTED });
    expect(strings(seen)).not.toContain(click.token);
  });

  it('finds a key at any depth, however it is spelled, in objects and in arrays', () => {
    const deep = { a: [{ b: { c: [[{ response_url: 'https://hooks.slack.com/actions/T1/1/x' }]] } }], 'Response-URL': 'x', responseURLs: ['y'] };
    expect(redact(deep, viewer)).toEqual({ a: [{ b: { c: [[{ response_url: ADMIN_ONLY }]] } }], 'Response-URL': ADMIN_ONLY, responseURLs: ADMIN_ONLY });
    expect(redact({ response_urls: [{ response_url: 'https://hooks.slack.com/x' }] }, viewer)).toEqual({ response_urls: ADMIN_ONLY });
  });

  it('credentials by name, for every reader: tokens, secrets, passwords, keys, signatures, authorization', () => {
    const data = {
      token: 't',
      bot_token: 'xoxb-1',
      headers: { Authorization: 'Bearer abc', 'X-Slack-Signature': 'v0=abc', cookie: 'c' },
      nested: [{ client_secret: 's', password: 'p', apiKey: 'k', signing_secret: 'ss' }],
      tokens: ['kept: a list named tokens is not one token'],
      title: 'disk full',
    };
    const expected = {
      token: REDACTED,
      bot_token: REDACTED,
      headers: { Authorization: REDACTED, 'X-Slack-Signature': REDACTED, cookie: REDACTED },
      nested: [{ client_secret: REDACTED, password: REDACTED, apiKey: REDACTED, signing_secret: REDACTED }],
      tokens: ['kept: a list named tokens is not one token'],
      title: 'disk full',
    };
    expect(redact(data, viewer)).toEqual(expected);
    expect(redact(data, admin)).toEqual(expected);
  });

  it('credentials and Slack hook URLs inside text, by their shape', () => {
    const text = 'posted with xoxb-123-456-abcdef to https://hooks.slack.com/services/T0/B0/XyZ then "Authorization: Bearer s3cr3t"';
    expect(redact({ description: text }, viewer)).toEqual({
      description: `posted with [redacted] to ${ADMIN_ONLY} then "Authorization: Bearer [redacted]"`,
    });
    expect(redact({ description: text }, admin)).toEqual({
      description: 'posted with [redacted] to https://hooks.slack.com/services/T0/B0/XyZ then "Authorization: Bearer [redacted]"',
    });
  });

  it('credentials inside URLs, for every reader: user info and query parameters named as credentials', () => {
    const data = {
      url: 'https://bot:hunter2@hooks.example.com/run?token=s3cr3t&service=api&api_key=k1&Signature=v0%3Dabc&sig=x&page=2#top',
      note: 'see http://ops:pw@grafana.example/d/1?orgId=1 and https://status.example.com/?code=oauth-code',
      plain: 'https://runbooks.example.com/disk?host=db1 and user@example.com',
    };
    const expected = {
      url: `https://${REDACTED}@hooks.example.com/run?token=${REDACTED}&service=api&api_key=${REDACTED}&Signature=${REDACTED}&sig=${REDACTED}&page=2#top`,
      note: `see http://${REDACTED}@grafana.example/d/1?orgId=1 and https://status.example.com/?code=${REDACTED}`,
      plain: 'https://runbooks.example.com/disk?host=db1 and user@example.com',
    };
    expect(redact(data, viewer)).toEqual(expected);
    expect(redact(data, admin)).toEqual(expected);
    for (const secret of ['hunter2', 's3cr3t', 'k1', 'v0%3Dabc', 'oauth-code', 'ops:pw']) expect(strings(redact(data, viewer)).join(' ')).not.toContain(secret);
  });

  it('keeps everything else as it is, in order, and does not change its input', () => {
    const data = { b: 1, a: [true, null, 2.5, 'x'], c: { raw: { z: 1 } } };
    const before = JSON.stringify(data);

    const out = redact(data, viewer);
    expect(JSON.stringify(out)).toBe('{"b":1,"a":[true,null,2.5,"x"],"c":{"raw":"[redacted: admin only]"}}');
    expect(JSON.stringify(data)).toBe(before);
    expect(redact('text', viewer)).toBe('text');
    expect(redact(null, viewer)).toBeNull();
  });

  it('a key named __proto__ is copied as a key, and never becomes a prototype', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true, "token": "t"}, "ok": 1}') as Record<string, unknown>;
    const out = redact(parsed, viewer) as Record<string, any>;

    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(out.polluted).toBeUndefined();
    expect(JSON.stringify(out)).toBe('{"__proto__":{"polluted":true,"token":"[redacted]"},"ok":1}');
  });

  it('reaches any depth: a payload nested 100,000 levels deep is redacted at the bottom without overflowing the stack', () => {
    let deep: Record<string, unknown> = { response_url: 'https://hooks.slack.com/actions/T/1/deep', token: 'bottom' };
    for (let i = 0; i < 100_000; i++) deep = { next: deep };

    let out = redact(deep, viewer) as Record<string, any>;
    for (let i = 0; i < 100_000; i++) out = out.next;
    expect(out).toEqual({ response_url: ADMIN_ONLY, token: REDACTED });
  });
});

describe('credentials written into text, of any kind of URL or header', () => {
  it.each([
    ['socket mode failed with xapp-1-A0123-456-abcdef0123456789', 'socket mode failed with [redacted]'],
    ['psql postgres://app:Sup3rSecret@db:5432/prod failed', 'psql postgres://[redacted]@db:5432/prod failed'],
    ['redis://:Sup3rSecret@cache:6379 and amqp://u:Sup3rSecret@mq/vh', 'redis://[redacted]@cache:6379 and amqp://[redacted]@mq/vh'],
    ['curl -H "Authorization: Basic dXNlcjpzM2NyM3Q=" https://x', 'curl -H "Authorization: Basic [redacted]" https://x'],
  ])('%s', (text, seen) => {
    expect(redact(text, viewer)).toBe(seen);
    expect(redact(text, admin)).toBe(seen);
  });

  it('keys that name a credential, whatever their spelling', () => {
    const data = { private_key: 'PK', routingKey: 'RK', 'access-key': 'AK', passwd: 'pw', pass: 'p', credentials: 'c', dsn: 'postgres://u:pw@h/db', bypass: 'kept' };
    expect(redact(data, admin)).toEqual({
      private_key: REDACTED,
      routingKey: REDACTED,
      'access-key': REDACTED,
      passwd: REDACTED,
      pass: REDACTED,
      credentials: REDACTED,
      dsn: REDACTED,
      bypass: 'kept',
    });
  });

  it('plain text and URLs without credentials are left as they are', () => {
    for (const text of ['Basic checks failed on host1', 'see https://grafana.example/d/x?orgId=1', 'ftp://mirror.example/pub', 'a:b@c']) {
      expect(redact(text, viewer)).toBe(text);
    }
  });
  it('credentials inside what senders wrote, by their shape, for every reader: a failed command in a label or summary, a key', () => {
    const alert = {
      title: 'backup failed: mysql -uroot -pRootPw7 prod',
      labels: { cmd: 'pg_dump --password=CmdPw1 -h db', host: 'db-9', dsn_url: 'postgres://etl:Pa@ss#w0rd@db.internal/prod' },
      comment: 'login with password=PlainPw1 refused',
      description: 'key:\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\n-----END EC PRIVATE KEY-----',
    };
    for (const reader of [viewer, admin]) {
      expect(redact(alert, reader)).toEqual({
        title: 'backup failed: mysql -uroot -p[redacted] prod',
        labels: { cmd: 'pg_dump --password=[redacted] -h db', host: 'db-9', dsn_url: 'postgres://[redacted]@db.internal/prod' },
        comment: 'login with password=[redacted] refused',
        description: 'key:\n-----BEGIN EC PRIVATE KEY-----\n[redacted]\n-----END EC PRIVATE KEY-----',
      });
    }
  });

  it('what an SRE needs of a title or label stays, by the rule the router shows them with; credentials in them do not', () => {
    const alert = {
      title: 'auth-service: 5xx rate 12% on POST /v1/login',
      description: 'Authorization: denied for user svc-backup (policy p-1234)\ntoken: expired for 3 service accounts\nk8s secret: prod/db-credentials mounted',
      labels: { secret_name: 'prod/db-credentials', token_type: 'bearer', api_key_id: 'key-7f3c9a2e', routing_key: 'R1', pwd: 'p', host: 'db-9' },
      comment: 'token: ab\\"cd1234xyz',
      payload: '{"Authorization": "Token abcdef0123456789"}',
    };
    for (const reader of [viewer, admin]) {
      expect(redact(alert, reader)).toEqual({
        ...alert,
        labels: { ...alert.labels, routing_key: REDACTED, pwd: REDACTED },
        comment: 'token: [redacted]',
        payload: '{"Authorization": "Token [redacted]"}',
      });
    }
  });
});
