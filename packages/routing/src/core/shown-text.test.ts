import { cutMark } from '@alertbus/schemas';
import { earlierCut } from './cut-mark';
import { jsonWithoutCredentials, labelsWithoutCredentials, withoutCredentials } from './shown-text';

describe('what senders wrote, as Slack and the pager show it', () => {
  test("ingest's cut mark at a text's end stays whole after a credential that runs to the line's end", () => {
    const text = `backup log\npassword: hunter2${cutMark(1234)}`;
    const shown = withoutCredentials(text);
    expect(shown).toBe(`backup log\npassword: [redacted]${cutMark(1234)}`);
    expect(earlierCut(shown).removed).toBe(1234);
  });

  test('text and labels without any hint are returned as they are, not copied', () => {
    const labels = { alertname: 'DiskFull', instance: 'db-1:9100' };
    expect(labelsWithoutCredentials(labels)).toBe(labels);
    expect(withoutCredentials('Disk full on db-1')).toBe('Disk full on db-1');
  });

  test("a label named as a secret is redacted whole; another only where its value holds one; `__proto__` stays a key", () => {
    const labels = JSON.parse('{"db_password":"hunter2 hunter3","job":"curl -u bob:Pw123456 https://x","__proto__":"token=abc"}') as Record<string, string>;
    const shown = labelsWithoutCredentials(labels);
    expect(Object.entries(shown)).toEqual([
      ['db_password', '[redacted]'],
      ['job', 'curl -u bob:[redacted] https://x'],
      ['__proto__', 'token=[redacted]'],
    ]);
    expect(labels.db_password).toBe('hunter2 hunter3');
  });

  test('every string of a JSON value, at any depth, without changing the value given', () => {
    const deep: unknown = JSON.parse(`${'['.repeat(20_000)}"token=abc123"${']'.repeat(20_000)}`);
    let inner = jsonWithoutCredentials(deep);
    while (Array.isArray(inner)) inner = inner[0];
    expect(inner).toBe('token=[redacted]');
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'PGPASSWORD=x1 psql' } }];
    expect(jsonWithoutCredentials(blocks)).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: 'PGPASSWORD=[redacted] psql' } }]);
    expect(blocks[0]!.text.text).toBe('PGPASSWORD=x1 psql');
  });

  test('a label is redacted whole when its key is a credential by the history\'s rule; one that only starts with a secret\'s word is text', () => {
    const labels = {
      secret_name: 'prod/db-credentials',
      token_bucket: 'api-gw-01',
      token_type: 'bearer',
      token_name: 'ci-deployer',
      token_id: 'tok-2026-11',
      api_key_id: 'key-7f3c9a2e',
      password_policy: 'strict-90d',
      private_key_path: '/etc/ssl/private/api.key',
      secret_store: 'vault-prod',
      credential_provider: 'aws-iam',
      // Their text rule still applies: a credential inside the value goes.
      token_name_note: 'token: abc123XYZ789 for ci',
    };
    expect(labelsWithoutCredentials(labels)).toEqual({ ...labels, token_name_note: 'token: [redacted] for ci' });
    const credentials = {
      routing_key: 'r1', authorization: 'denied', cookie: 'c', signature: 's', access_key: 'a', integration_key: 'i',
      geniekey: 'g', secretkey: 'k', pwd: 'p', pass: 'p', db_password: 'hunter2 hunter3', api_token: 't', x_secret: 'x',
    };
    expect(Object.values(labelsWithoutCredentials(credentials))).toEqual(Object.values(credentials).map(() => '[redacted]'));
  });

  test('titles an SRE needs are shown as written; a credential in one is not', () => {
    for (const title of [
      'auth-service: 5xx rate 12% on POST /v1/login',
      'secret-manager: sync of 14 secrets failed with 503',
      'pat-rollout: canary 10% failing',
      'Authorization: denied for user svc-backup (policy p-1234)',
      'token: expired for 3 service accounts',
      'password: incorrect for db user reporting',
      'k8s secret: prod/db-credentials mounted',
      'error in step secret: fetch_from_vault failed',
    ]) expect(withoutCredentials(title)).toBe(title);
    expect(withoutCredentials('upstream said Basic dXNlcjpodW50ZXIy')).toBe('upstream said Basic [redacted]');
    expect(withoutCredentials('https://a.blob.core.windows.net/c?sv=1&sig=AbCdEf1234')).toBe('https://a.blob.core.windows.net/c?sv=1&sig=[redacted]');
    expect(withoutCredentials('"Authorization": "Token abcdef0123456789"')).toBe('"Authorization": "Token [redacted]"');
    expect(withoutCredentials('token: ab\\"cd1234xyz')).toBe('token: [redacted]');
  });
});
