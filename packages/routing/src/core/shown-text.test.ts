import { cutMark } from '@alertbus/schemas';
import { earlierCut } from './cut-mark';
import { jsonWithoutCredentials, labelsWithoutCredentials, withoutCredentials } from './shown-text';

describe('what senders wrote, as Slack and the pager show it', () => {
  test("ingest's cut mark at a text's end stays whole after a credential that runs to the line's end", () => {
    const text = `backup log\npassword: hunter2 and the rest of the line${cutMark(1234)}`;
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
});
