/**
 * Credentials senders write into alerts (a label, an annotation, a summary, a Slack request) are redacted in what the
 * router sends to Slack and the pager; the facts keep the text as sent (the history redacts them when it shows them).
 */
import { notificationRequested, validateEnvelope, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import { decide } from '../decider';
import { compileRules } from '../rules/compile';
import type { CompiledRules } from '../rules/types';
import { firing, HOUR, MINUTE, resolved } from '../test-support/alerts';
import { rulesFrom } from '../test-support/scenario';
import { BOT_MENTION, CHANNEL, slackMessage } from '../test-support/slack';
import { PAGER_LIMITS } from './pager';
import { Replayer } from './replay';

/** What an Alertmanager alert that failed a backup carries, as ingest normalises it (summary → title, description). */
const SECRETS = ['hunter2', 'abc123XYZ789', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'Runbook-Pw9', 'eyJzdWIiOiJ4In0'];
const annotations = {
  summary: 'Backup failed: pg_dump --password=hunter2 exited 1 <!channel>',
  description: 'login failed, token: abc123XYZ789 for user etl\nSTRIPE_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dc',
  runbook_url: 'https://ops:Runbook-Pw9@wiki.example.com/backup',
};
const backupAlert = (at: number, status: 'firing' | 'resolved' = 'firing') =>
  (status === 'firing' ? firing : resolved)('alertmanager:backup', {
    at,
    title: annotations.summary,
    description: annotations.description,
    annotations,
    labels: { alertname: 'BackupFailed', team: 'db', severity: 'critical', db_password: 'hunter2', session_jwt: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' },
    links: [{ title: 'Runbook', url: annotations.runbook_url }],
  });

const rules: CompiledRules = (() => {
  const r = compileRules(
    'defaults:\n  slack: { channel: "#alerts" }\n  pager: { priority: P2, tags: [db] }\n  repeat_interval: 1h\nrules:\n  - name: db\n    match: [\'team="db"\']\n    pager: { note_on_repeat: true }\n',
    'rules.yaml',
    { defaultChannel: '#alerts' },
  );
  if (!r.ok) throw new Error(r.message);
  return r.rules;
})();

const SLACK_OR_PAGER = new Set(['PostSlackMessage', 'UpdateSlackMessage', 'PostSlackReply', 'PostNotification', 'CreatePagerAlert', 'AddPagerNote', 'ClosePagerAlert']);
const outputs = (events: readonly AnyEnvelope[]) => events.filter((e) => SLACK_OR_PAGER.has(e.type));

function expectNoSecret(events: readonly AnyEnvelope[]): void {
  for (const e of events) {
    expect(validateEnvelope(e)).toEqual({ ok: true, event: e });
    const sent = JSON.stringify(e.data);
    for (const secret of SECRETS) expect({ type: e.type, leaks: sent.includes(secret) }).toEqual({ type: e.type, leaks: false });
  }
}

describe('credentials in what an alert says reach neither Slack nor the pager', () => {
  test('opened, repeated and resolved: the root message, replies, page and notes are redacted; the facts keep the text', () => {
    const replayer = new Replayer(rules);
    const opened = replayer.decide(backupAlert(0)).events;
    const repeated = replayer.decide(backupAlert(2 * HOUR)).events;
    const closed = replayer.decide(backupAlert(2 * HOUR + MINUTE, 'resolved')).events;
    const sent = outputs([...opened, ...repeated, ...closed]);
    expect(sent.map((e) => e.type)).toEqual([
      'PostSlackMessage', 'CreatePagerAlert', 'PostSlackMessage', 'AddPagerNote', 'PostSlackMessage', 'UpdateSlackMessage', 'ClosePagerAlert',
    ]);
    expectNoSecret(sent);

    const root = opened.find((e) => e.type === 'PostSlackMessage')!.data as { text: string; blocks: Array<{ text?: { type: string; text: string } }> };
    const shown = root.blocks.map((b) => b.text?.text ?? '').join('\n');
    const mrkdwn = root.blocks.map((b) => (b.text?.type === 'mrkdwn' ? b.text.text : '')).join('\n');
    // The label under a secret's name, the summary's option, the annotation's token and key, the runbook's password.
    expect(shown).toContain('• db_password: [redacted]');
    expect(shown).toContain('• session_jwt: [redacted]');
    expect(shown).toContain('pg_dump --password=[redacted] exited 1');
    expect(shown).toContain('login failed, token: [redacted] for user etl\nSTRIPE_KEY=[redacted]');
    expect(shown).toContain('<https://[redacted]@wiki.example.com/backup|Runbook>');
    // Redacted before it is escaped: the sender's markup is still escaped where Slack would read it (the header is plain text).
    expect(root.text).toContain('--password=[redacted] exited 1 &lt;!channel&gt;');
    expect(mrkdwn).toContain('<https://[redacted]@wiki.example.com/backup|Runbook>');
    expect(mrkdwn).not.toContain('<!channel>');

    const page = opened.find((e) => e.type === 'CreatePagerAlert')!.data as { message: string; description: string; details: Record<string, string> };
    expect(page.message).toBe('Backup failed: pg_dump --password=[redacted] exited 1 <!channel>');
    expect(page.description).toContain('login failed, token: [redacted] for user etl\nSTRIPE_KEY=[redacted]');
    expect(page.description).toContain('- db_password=[redacted]');
    expect(page.description).toContain('- Runbook: https://[redacted]@wiki.example.com/backup');
    expect(page.details).toMatchObject({ db_password: '[redacted]', session_jwt: '[redacted]', alertname: 'BackupFailed' });

    // The facts are the audit record: as sent.
    const fact = opened.find((e) => e.type === 'IncidentOpened')!.data as { title: string; description: string; labels: Record<string, string> };
    expect(fact).toMatchObject({ title: annotations.summary, description: annotations.description, labels: { db_password: 'hunter2' } });
  });

  test('a storm lists its incidents and pages once, without the credentials of any of them', () => {
    const replayer = new Replayer(rulesFrom('rules.storm-pages.yaml'));
    const events = [0, 1, 2, 3, 4].flatMap(
      (i) =>
        replayer.decide(
          firing(`am:s${i}`, { at: i * MINUTE, severity: 'warning', labels: { team: 'web', api_token: 'hunter2' }, title: `s${i}: curl -u bob:hunter2 failed`, description: 'x' }),
        ).events,
    );
    const sent = outputs(events);
    expect(sent.some((e) => e.type === 'CreatePagerAlert' && e.alias.startsWith('storm:'))).toBe(true);
    expect(sent.some((e) => e.type === 'UpdateSlackMessage' && e.alias.startsWith('storm:'))).toBe(true);
    expectNoSecret(sent);
  });

  test('a notification to a tag, and one posted directly, are redacted the same way', () => {
    const tagged = compileRules('tags:\n  deploys: { channel: "#deploys" }\n', 'rules.yaml', { defaultChannel: '#alerts' });
    if (!tagged.ok) throw new Error(tagged.message);
    const at = '2026-01-01T12:00:00.000Z';
    const tag = decide(notificationRequested({ kind: 'tag', tag: 'deploys', level: 'crit', requestId: 'r1', title: 'token: abc123XYZ789', text: 'deploy used --password=hunter2' }, at), undefined, tagged.rules);
    const direct = decide(
      notificationRequested(
        { kind: 'direct', level: 'info', requestId: 'r2', channel: '#x', text: 'key sk_live_4eC39HqLyjWDarjtT1zdp7dc', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'PASSWORD=hunter2 in <https://x|log>' } } as { type: string }] },
        at,
      ),
      undefined,
      tagged.rules,
    );
    const sent = outputs([...tag.events, ...direct.events]);
    expect(sent.map((e) => e.type)).toEqual(['PostNotification', 'PostNotification']);
    expectNoSecret(sent);
    expect(JSON.stringify(direct.events[0]!.data)).toContain('PASSWORD=[redacted] in <https://x|log>');
  });

  test('a Slack request for help: its page and the note of a mention in its thread are redacted, its incident keeps what was asked', () => {
    const replayer = new Replayer(rulesFrom('rules.slack.yaml'));
    const ts = '1700000000.000100';
    const asked = replayer.decide(slackMessage(ts, { text: `${BOT_MENTION} prod db down, pg_dump --password=hunter2 fails` })).events;
    const inThread = replayer.decide(slackMessage('1700000001.000200', { at: MINUTE, threadTs: ts, text: `${BOT_MENTION} it logs token: abc123XYZ789` })).events;
    // A mention in the thread travels to the request's own key, which takes it as a note.
    const travelled = inThread.find((e) => e.type === 'SlackMessageReceived')!;
    const added = [...inThread, ...replayer.decide(travelled as Envelope<'SlackMessageReceived'>).events];
    const sent = outputs([...asked, ...added]);
    expect(sent.filter((e) => e.type === 'CreatePagerAlert' || e.type === 'AddPagerNote').map((e) => e.type)).toEqual(['CreatePagerAlert', 'AddPagerNote']);
    expectNoSecret(sent);
    const page = sent.find((e) => e.type === 'CreatePagerAlert')!.data as { message: string; description: string };
    expect(page.message).toBe('prod db down, pg_dump --password=[redacted] fails');
    expect(page.description).toContain('prod db down, pg_dump --password=[redacted] fails');
    expect((sent.find((e) => e.type === 'AddPagerNote')!.data as { note: string }).note).toContain('it logs token: [redacted]');
    expect(asked.find((e) => e.type === 'IncidentOpened')!.data).toMatchObject({ title: 'prod db down, pg_dump --password=hunter2 fails' });
  });

  test("a long Slack request is redacted before it is cut to the page's size, so who asked and the link stay at its end", () => {
    const ts = '1700000000.000300';
    // Each `token=ab` grows once redacted: cut first and redacted after, the text would push the tail out.
    const asked = new Replayer(rulesFrom('rules.slack.yaml')).decide(slackMessage(ts, { text: `${BOT_MENTION} db down ${'token=ab '.repeat(1660)}` })).events;
    const page = asked.find((e) => e.type === 'CreatePagerAlert')!.data as { description: string };
    expect(page.description.length).toBeLessThanOrEqual(PAGER_LIMITS.description);
    expect(page.description).not.toContain('token=ab');
    expect(page.description).toMatch(/^db down token=\[redacted\] token=\[redacted\] /);
    expect(page.description).toMatch(new RegExp(`\\n\\nRequested in Slack by U0ALICE in channel ${CHANNEL}\\.\\nMessage: https://acme\\.slack\\.com/archives/${CHANNEL}/p1700000000000300$`));
  });
});
