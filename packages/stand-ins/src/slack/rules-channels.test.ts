/**
 * `npm start -- --stand-ins` gives the Slack stand-in every channel the rules in force name: with the example
 * rules, the README's own commands post to #db-alerts, #deploys, #batch, and nothing ends as channel_not_found.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { compileRules } from '@alertbus/routing';
import { channelsOfRules, formatStandInChannels, parseStandInChannels, withChannels } from './channels';
import { DEFAULT_SLACK_CHANNELS, SLACK_STAND_IN_TOKEN, startSlackStandIn, type SlackStandIn } from './server';

const compile = (text: string | Buffer) => {
  const r = compileRules(text, 'rules.yaml', { defaultChannel: '#alerts' });
  if (!r.ok) throw new Error(r.message);
  return r.rules;
};

test('the example rules name #alerts, #db-alerts and the tags #deploys, #batch, #batch-crit', () => {
  const rules = compile(readFileSync(path.resolve(__dirname, '../../../../examples/rules.yaml')));
  expect(channelsOfRules(rules)).toEqual(['#alerts', '#batch', '#batch-crit', '#db-alerts', '#deploys']);
});

test('every place a channel is named: defaults, nested routes, severity and tag maps, tags, storm control', () => {
  const rules = compile(`
defaults:
  slack: { channel: "#general-alerts", channel_by_severity: { critical: "#crit" } }
rules:
  - match: ['team="db"']
    slack: { channel: "#db" }
    routes:
      - match: ['env="staging"']
        slack: { channel: "#db-staging" }
      - match: ['env="prod"']
        slack: { channel_by_tag: { backup: "#db-backup" } }
  - match: ['team="web"']
    slack: { channel: C0123ABCDE }
tags:
  deploys: { channel: "#deploys", level_channels: { crit: "#deploys-crit" } }
storm_control:
  channels:
    "#noisy": { threshold: 5 }
`);
  expect(channelsOfRules(rules)).toEqual(['#crit', '#db', '#db-backup', '#db-staging', '#deploys', '#deploys-crit', '#general-alerts', '#noisy', 'C0123ABCDE']);
});

test('the built-in rules name only the default channel', () => {
  expect(channelsOfRules(compile('rules: []\n'))).toEqual(['#alerts']);
});

test('names get readable IDs, unique, and the given channels keep theirs; an ID stays an ID', () => {
  const channels = withChannels(DEFAULT_SLACK_CHANNELS, ['#alerts', '#db-alerts', 'db_alerts', 'C0123ABCDE', '#ops']);
  expect(channels).toEqual([
    { id: 'C0ALERTS', name: 'alerts' },
    { id: 'C0OPS', name: 'ops' },
    { id: 'C0DBALERTS', name: 'db-alerts' },
    { id: 'C0DBALERTS2', name: 'db_alerts' },
    { id: 'C0123ABCDE', name: 'c0123abcde' },
  ]);
  expect(parseStandInChannels(formatStandInChannels(channels))).toEqual(channels);
  expect(() => parseStandInChannels('C0X:x,oops')).toThrow('SLACK_STAND_IN_CHANNELS entries must be ID:name, got "oops"');
});

describe('a stand-in given those channels', () => {
  let slack: SlackStandIn;
  beforeAll(async () => {
    const rules = compile(readFileSync(path.resolve(__dirname, '../../../../examples/rules.yaml')));
    const env = formatStandInChannels(withChannels(DEFAULT_SLACK_CHANNELS, channelsOfRules(rules)));
    slack = await startSlackStandIn({ tokens: [SLACK_STAND_IN_TOKEN], channels: parseStandInChannels(env) });
  });
  afterAll(() => slack?.close());

  const post = async (channel: string) => {
    const res = await fetch(`${slack.url}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SLACK_STAND_IN_TOKEN}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel, text: 'hello' }),
    });
    return (await res.json()) as { ok: boolean; error?: string };
  };

  test.each(['#alerts', '#ops', '#db-alerts', '#deploys', '#batch', '#batch-crit'])('posts to %s', async (channel) => {
    expect(await post(channel)).toMatchObject({ ok: true });
  });

  test('still answers channel_not_found for a channel nobody named, as Slack does', async () => {
    expect(await post('#nope')).toEqual(expect.objectContaining({ ok: false, error: 'channel_not_found' }));
  });
});
