import {
  SlackApiError,
  blocksArg,
  bool,
  decodeCursor,
  encodeCursor,
  int,
  attachmentsArg,
  metadataArg,
  required,
  str,
  type Args,
} from './args';
import { SLACK_STAND_IN_BOT, tsToMicros, type SlackState, type SlackTeam, type SlackStoredMessage, type SlackUserConfig } from './state';

/** One Web API method: arguments in, the fields of an `ok:true` answer out (throws SlackApiError otherwise). */
export type MethodHandler = (args: Args, state: SlackState, caller?: SlackTeam) => Record<string, unknown>;

function isTopLevel(m: SlackStoredMessage): boolean {
  return m.thread_ts === undefined || m.thread_ts === m.ts || m.subtype === 'thread_broadcast';
}

/** A stored message as the Web API shows it; metadata only when asked for, as with `include_all_metadata`. */
function view(state: SlackState, m: SlackStoredMessage, withMetadata: boolean): Record<string, unknown> {
  const replies = state.replies(m.channel, m.ts);
  return {
    type: 'message',
    ...(m.subtype ? { subtype: m.subtype } : {}),
    user: m.user,
    ...(m.bot_id ? { bot_id: m.bot_id, app_id: SLACK_STAND_IN_BOT.appId } : {}),
    team: SLACK_STAND_IN_BOT.teamId,
    text: m.text,
    ts: m.ts,
    ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
    ...(m.thread_ts && m.thread_ts !== m.ts ? { parent_user_id: state.message(m.channel, m.thread_ts)?.user } : {}),
    ...(replies.length > 0
      ? { thread_ts: m.ts, reply_count: replies.length, latest_reply: replies[replies.length - 1]!.ts }
      : {}),
    ...(m.blocks ? { blocks: m.blocks } : {}),
    ...(m.attachments ? { attachments: m.attachments } : {}),
    ...(m.username ? { username: m.username } : {}),
    ...(m.edited ? { edited: m.edited } : {}),
    ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}),
  };
}

/** Keeps messages strictly between oldest and latest (or inclusive), as conversations.history does. */
function inWindow(args: Args): (m: SlackStoredMessage) => boolean {
  const oldestArg = str(args, 'oldest');
  const latestArg = str(args, 'latest');
  let oldest: bigint;
  let latest: bigint | undefined;
  try {
    oldest = oldestArg === undefined ? 0n : tsToMicros(oldestArg);
    latest = latestArg === undefined ? undefined : tsToMicros(latestArg);
  } catch {
    throw new SlackApiError('invalid_ts_oldest');
  }
  const inclusive = bool(args, 'inclusive');
  return (m) => {
    const t = tsToMicros(m.ts);
    const afterOldest = inclusive && oldestArg !== undefined ? t >= oldest : t > oldest;
    const beforeLatest = latest === undefined ? true : inclusive ? t <= latest : t < latest;
    return afterOldest && beforeLatest;
  };
}

/** One page of `list` starting at the cursor position, with Slack's has_more / next_cursor. */
function page<T>(list: T[], args: Args, key: (item: T) => string, prefix: string, defaultLimit: number, max: number) {
  const limit = int(args, 'limit', defaultLimit, max);
  const from = decodeCursor(str(args, 'cursor'), prefix);
  let start = 0;
  if (from !== undefined) {
    start = list.findIndex((item) => key(item) === from);
    if (start < 0) throw new SlackApiError('invalid_cursor');
  }
  const items = list.slice(start, start + limit);
  const next = list[start + limit];
  return {
    items,
    has_more: next !== undefined,
    response_metadata: { next_cursor: next === undefined ? '' : encodeCursor(`${prefix}:${key(next)}`) },
  };
}

function requireChannelId(state: SlackState, args: Args) {
  const id = required(args, 'channel', 'channel_not_found');
  const channel = state.channelById(id);
  if (!channel) throw new SlackApiError('channel_not_found');
  return channel;
}

function requireBotMessageText(args: Args): { text?: string; blocks?: unknown[] } {
  const blocks = blocksArg(args);
  const text = str(args, 'text');
  if (text === undefined && (blocks === undefined || blocks.length === 0)) throw new SlackApiError('no_text');
  return { text, blocks };
}

const postMessage: MethodHandler = (args, state) => {
  const channelRef = required(args, 'channel', 'channel_not_found');
  // A user id as the channel: the app's direct message with that user (its App Home's Messages tab).
  const channel = state.channelForApp(channelRef) ?? (/^[UW]/.test(channelRef) ? state.imWith(channelRef) : undefined);
  if (!channel || channel.isArchived) throw new SlackApiError(channel ? 'is_archived' : 'channel_not_found');
  const attachments = attachmentsArg(args);
  const { text, blocks } = attachments ? { text: str(args, 'text'), blocks: blocksArg(args) } : requireBotMessageText(args);
  const metadata = metadataArg(args);
  const threadTs = str(args, 'thread_ts');
  const username = str(args, 'username');
  const iconEmoji = str(args, 'icon_emoji');
  if (threadTs !== undefined && !state.message(channel.id, threadTs)) throw new SlackApiError('thread_not_found');
  const stored: SlackStoredMessage = {
    channel: channel.id,
    ts: state.nextTs(),
    ...(threadTs ? { thread_ts: threadTs } : {}),
    ...(threadTs && bool(args, 'reply_broadcast') ? { subtype: 'thread_broadcast' } : {}),
    text: text ?? '',
    ...(blocks ? { blocks } : {}),
    ...(attachments ? { attachments } : {}),
    ...(username ? { username } : {}),
    ...(iconEmoji ? { icon_emoji: iconEmoji } : {}),
    ...(metadata ? { metadata } : {}),
    user: SLACK_STAND_IN_BOT.userId,
    bot_id: SLACK_STAND_IN_BOT.botId,
    updates: 0,
  };
  state.store(stored);
  return { channel: channel.id, ts: stored.ts, message: view(state, stored, true) };
};

const update: MethodHandler = (args, state) => {
  const channel = requireChannelId(state, args);
  const ts = required(args, 'ts', 'message_not_found');
  const message = state.message(channel.id, ts);
  if (!message) throw new SlackApiError('message_not_found');
  if (message.user !== SLACK_STAND_IN_BOT.userId) throw new SlackApiError('cant_update_message');
  const { text, blocks } = requireBotMessageText(args);
  const metadata = metadataArg(args);
  message.text = text ?? '';
  // As chat.update documents: without `blocks` the message keeps its blocks; an empty array removes them.
  if (blocks !== undefined && blocks.length > 0) message.blocks = blocks;
  else if (blocks !== undefined) delete message.blocks;
  if (metadata) message.metadata = metadata;
  message.updates += 1;
  message.edited = { user: SLACK_STAND_IN_BOT.userId, ts: state.nextTs() };
  return { channel: channel.id, ts: message.ts, text: message.text, message: view(state, message, true) };
};

/** Who the token is: the stand-in's own bot, or the bot of the workspace an OAuth install minted it for. */
const authTest: MethodHandler = (_args, _state, caller) => ({
  url: `https://${caller?.teamName ?? SLACK_STAND_IN_BOT.team}.slack.com/`,
  team: caller?.teamName ?? SLACK_STAND_IN_BOT.team,
  user: SLACK_STAND_IN_BOT.userName,
  team_id: caller?.teamId ?? SLACK_STAND_IN_BOT.teamId,
  user_id: caller?.botUserId ?? SLACK_STAND_IN_BOT.userId,
  bot_id: caller?.botId ?? SLACK_STAND_IN_BOT.botId,
  is_enterprise_install: false,
});

const conversationsList: MethodHandler = (args, state) => {
  const types = (str(args, 'types') ?? 'public_channel').split(',').map((t) => t.trim());
  const excludeArchived = bool(args, 'exclude_archived');
  const visible = state.channels.filter(
    (c) =>
      (c.isPrivate ? types.includes('private_channel') && !c.withoutApp : types.includes('public_channel')) &&
      !(excludeArchived && c.isArchived),
  );
  const p = page(visible, args, (c) => c.id, 'id', 100, 1000);
  return {
    channels: p.items.map((c) => ({
      id: c.id,
      name: c.name,
      is_channel: !c.isPrivate,
      is_group: !!c.isPrivate,
      is_private: !!c.isPrivate,
      is_archived: !!c.isArchived,
      is_member: !c.withoutApp,
    })),
    response_metadata: p.response_metadata,
  };
};

/**
 * A channel whose messages the bot reads (conversations.history, conversations.replies): a bot token reads only the
 * conversations the bot is a member of (Slack's method pages: "Any conversation the relevant bot is a member of"), even
 * a public one it may post in with chat:write.public: not_in_channel; a private one it is not in is hidden.
 */
function requireReadableChannel(state: SlackState, args: Args) {
  const channel = requireChannelId(state, args);
  if (channel.withoutApp) throw new SlackApiError(channel.isPrivate ? 'channel_not_found' : 'not_in_channel');
  return channel;
}

/**
 * conversations.join (channels:join): the bot joins a public channel; a private one it cannot join by itself
 * (method_not_supported_for_channel_type; channel_not_found when it is not in it, as Slack hides it), nor an archived one.
 */
const conversationsJoin: MethodHandler = (args, state) => {
  const channel = requireChannelId(state, args);
  if (channel.isPrivate) throw new SlackApiError(channel.withoutApp ? 'channel_not_found' : 'method_not_supported_for_channel_type');
  if (channel.isArchived) throw new SlackApiError('is_archived');
  const already = !channel.withoutApp;
  channel.withoutApp = false;
  return {
    channel: { id: channel.id, name: channel.name, is_channel: true, is_private: false, is_archived: false, is_member: true },
    ...(already ? { warning: 'already_in_channel', response_metadata: { warnings: ['already_in_channel'] } } : {}),
  };
};

const conversationsHistory: MethodHandler = (args, state) => {
  const channel = requireReadableChannel(state, args);
  const window = inWindow(args);
  const newestFirst = state.messages
    .filter((m) => m.channel === channel.id && isTopLevel(m) && window(m))
    .sort((a, b) => (tsToMicros(b.ts) > tsToMicros(a.ts) ? 1 : -1));
  const p = page(newestFirst, args, (m) => m.ts, 'next_ts', Math.min(100, state.readPageMax ?? 999), state.readPageMax ?? 999);
  const withMetadata = bool(args, 'include_all_metadata');
  return {
    messages: p.items.map((m) => view(state, m, withMetadata)),
    has_more: p.has_more,
    pin_count: 0,
    response_metadata: p.response_metadata,
  };
};

const conversationsReplies: MethodHandler = (args, state) => {
  const channel = requireReadableChannel(state, args);
  const ts = required(args, 'ts', 'thread_not_found');
  const parent = state.message(channel.id, ts);
  if (!parent) throw new SlackApiError('thread_not_found');
  const window = inWindow(args);
  const replies = state
    .replies(channel.id, ts)
    .filter(window)
    .sort((a, b) => (tsToMicros(a.ts) > tsToMicros(b.ts) ? 1 : -1));
  const p = page([parent, ...replies], args, (m) => m.ts, 'next_ts', state.readPageMax ?? 1000, state.readPageMax ?? 1000);
  const withMetadata = bool(args, 'include_all_metadata');
  return {
    messages: p.items.map((m) => view(state, m, withMetadata)),
    has_more: p.has_more,
    response_metadata: p.response_metadata,
  };
};

function userView(user: SlackUserConfig) {
  return {
    id: user.id,
    team_id: SLACK_STAND_IN_BOT.teamId,
    name: user.name,
    real_name: user.realName ?? user.name,
    deleted: !!user.deleted,
    is_bot: false,
    profile: { email: user.email, real_name: user.realName ?? user.name, display_name: user.name },
  };
}

/** users.info: any user id, deactivated ones included (with deleted: true); unknown → user_not_found. */
const usersInfo: MethodHandler = (args, state) => {
  const id = required(args, 'user');
  const user = state.users.find((u) => u.id === id);
  if (!user) throw new SlackApiError('user_not_found');
  return { user: userView(user) };
};

const usersLookupByEmail: MethodHandler = (args, state) => {
  const email = required(args, 'email');
  // Slack: "If the user has been deactivated, users_not_found will be returned instead of a user object."
  const user = state.users.find((u) => u.email?.toLowerCase() === email.toLowerCase() && !u.deleted);
  if (!user) throw new SlackApiError('users_not_found');
  return {
    user: {
      id: user.id,
      team_id: SLACK_STAND_IN_BOT.teamId,
      name: user.name,
      real_name: user.realName ?? user.name,
      deleted: false,
      is_bot: false,
      profile: { email: user.email, real_name: user.realName ?? user.name, display_name: user.name },
    },
  };
};

function usergroupView(g: { id: string; handle: string; name?: string; users: string[] }) {
  return { id: g.id, team_id: SLACK_STAND_IN_BOT.teamId, handle: g.handle, name: g.name ?? g.handle, users: [...g.users], user_count: g.users.length };
}

const usergroupsUsersUpdate: MethodHandler = (args, state) => {
  const group = state.usergroups.find((g) => g.id === required(args, 'usergroup'));
  if (!group) throw new SlackApiError('no_such_subteam');
  const users = (str(args, 'users') ?? '').split(',').map((u) => u.trim()).filter(Boolean);
  if (users.length === 0) throw new SlackApiError('no_users_provided');
  if (users.some((id) => !state.users.some((u) => u.id === id))) throw new SlackApiError('invalid_users');
  group.users = [...new Set(users)];
  return { usergroup: usergroupView(group) };
};

const usergroupsUsersList: MethodHandler = (args, state) => {
  const group = state.usergroups.find((g) => g.id === required(args, 'usergroup'));
  if (!group) throw new SlackApiError('no_such_subteam');
  return { users: [...group.users] };
};

/** usergroups.list: every group of the workspace; members only with include_users, as Slack does. */
const usergroupsList: MethodHandler = (args, state) => {
  const withUsers = bool(args, 'include_users');
  return {
    usergroups: state.usergroups.map((g) => {
      const { users, ...rest } = usergroupView(g);
      return withUsers ? { ...rest, users } : rest;
    }),
  };
};

/**
 * chat.postEphemeral: shown to `user` alone, in the channel or a thread of it; Slack keeps no copy, so the
 * stand-in records it apart from the channel's messages. As Slack: the app must be in the channel (a private one it
 * is not in is channel_not_found, a public one not_in_channel), and the user must exist and be in it
 * (user_not_in_channel).
 */
const postEphemeral: MethodHandler = (args, state) => {
  const channel = state.channelForApp(required(args, 'channel', 'channel_not_found'));
  if (!channel || channel.isArchived) throw new SlackApiError(channel ? 'is_archived' : 'channel_not_found');
  if (channel.withoutApp) throw new SlackApiError('not_in_channel');
  const user = required(args, 'user', 'user_not_in_channel');
  if (!state.users.some((u) => u.id === user && !u.deleted)) throw new SlackApiError('user_not_in_channel');
  if (channel.members && !channel.members.includes(user)) throw new SlackApiError('user_not_in_channel');
  const { text, blocks } = requireBotMessageText(args);
  const threadTs = str(args, 'thread_ts');
  const messageTs = state.nextTs();
  state.ephemerals.push({
    channel: channel.id,
    user,
    ...(threadTs ? { thread_ts: threadTs } : {}),
    text: text ?? '',
    ...(blocks ? { blocks } : {}),
    message_ts: messageTs,
    at: new Date().toISOString(),
  });
  return { message_ts: messageTs };
};

export const METHODS: Readonly<Record<string, MethodHandler>> = {
  'auth.test': authTest,
  'chat.postMessage': postMessage,
  'chat.update': update,
  'chat.postEphemeral': postEphemeral,
  'conversations.list': conversationsList,
  'conversations.history': conversationsHistory,
  'conversations.replies': conversationsReplies,
  'conversations.join': conversationsJoin,
  'users.lookupByEmail': usersLookupByEmail,
  'users.info': usersInfo,
  'usergroups.users.update': usergroupsUsersUpdate,
  'usergroups.users.list': usergroupsUsersList,
  'usergroups.list': usergroupsList,
};
