import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { SLACK_BOT_EVENTS, SLACK_BOT_SCOPES } from './scopes';

const manifest = parse(readFileSync(resolve(__dirname, '../../../slack-app-manifest.yaml'), 'utf8')) as {
  oauth_config: { scopes: { bot: string[] }; redirect_urls: string[] };
  settings: { event_subscriptions: { bot_events: string[]; request_url: string }; interactivity: { request_url: string }; socket_mode_enabled: boolean };
  features: { slash_commands: Array<{ command: string; url: string }> };
};

test('the manifest asks for exactly the scopes /slack/install requests, in the same order', () => {
  expect(manifest.oauth_config.scopes.bot).toEqual([...SLACK_BOT_SCOPES]);
});

test('the scopes cover what the example rules use, and the README\'s scope table lists each of them', () => {
  // A tag's username / icon_emoji is refused by Slack without chat:write.customize: examples/rules.yaml's deploys sets both.
  const rules = parse(readFileSync(resolve(__dirname, '../../../examples/rules.yaml'), 'utf8')) as { tags?: Record<string, Record<string, unknown>> };
  const customised = Object.values(rules.tags ?? {}).some((t) => t.username !== undefined || t.icon_emoji !== undefined);
  expect(customised).toBe(true);
  expect(SLACK_BOT_SCOPES).toContain('chat:write.customize');
  const readme = readFileSync(resolve(__dirname, '../../../README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('Bot scopes ('), readme.indexOf('\n### ', readme.indexOf('Bot scopes (')));
  const listed = new Set([...table.matchAll(/^\| (.+?) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`([a-z_.:]+)`/g)].map((x) => x[1])));
  expect(SLACK_BOT_SCOPES.filter((s) => !listed.has(s))).toEqual([]);
});

test('the manifest subscribes to exactly the events ingest handles, uninstalls included', () => {
  expect(manifest.settings.event_subscriptions.bot_events).toEqual([...SLACK_BOT_EVENTS]);
  expect(SLACK_BOT_EVENTS).toEqual(expect.arrayContaining(['app_uninstalled', 'tokens_revoked']));
});

test('the manifest points at ingest\'s routes: events, interactions, the slash command and the OAuth redirect', () => {
  const path = (u: string) => new URL(u).pathname;
  expect(path(manifest.settings.event_subscriptions.request_url)).toBe('/slack/events');
  expect(path(manifest.settings.interactivity.request_url)).toBe('/slack/interactions');
  expect(manifest.features.slash_commands.map((c) => [c.command, path(c.url)])).toEqual([['/alertbus', '/slack/commands']]);
  expect(manifest.oauth_config.redirect_urls.map(path)).toEqual(['/slack/oauth_redirect']);
  expect(manifest.settings.socket_mode_enabled).toBe(false);
});
