/**
 * What the Slack app asks for, in one place: /slack/install requests exactly these bot scopes and
 * slack-app-manifest.yaml lists them (a unit test keeps the two equal).
 */

/** Bot token scopes, each with the feature that needs it. */
export const SLACK_BOT_SCOPES = [
  'app_mentions:read', // mentions of the app in channels (app_mention)
  'channels:history', // message.channels: edits and deletes of requests in public channels
  'groups:history', // the same in private channels
  'im:history', // direct messages to the app (message.im)
  'chat:write', // root messages, thread replies, updates in place
  'chat:write.public', // post in public channels the bot has not been invited to
  'channels:join', // join such a channel to look for a post whose answer was lost (conversations.history needs membership)
  'chat:write.customize', // a notification tag's username and icon_emoji (rules file `tags:`)
  'channels:read', // channel names → ids (conversations.list)
  'groups:read', // private channel names → ids
  'users:read', // requester names (users.info)
  'users:read.email', // on-call emails → Slack users (users.lookupByEmail)
  'usergroups:read', // the on-call user group's members
  'usergroups:write', // keep the on-call user group equal to the on-call
  'commands', // the /alertbus slash command
] as const;

/** Bot events subscribed to, in both modes (HTTP request URL or Socket Mode). */
export const SLACK_BOT_EVENTS = [
  'app_mention',
  'message.channels',
  'message.groups',
  'message.im',
  'app_uninstalled',
  'tokens_revoked',
] as const;

/** The scope of the app-level token (xapp-…) Socket Mode connects with. */
export const SLACK_APP_TOKEN_SCOPES = ['connections:write'] as const;
