/** The stand-in workspace's memory: channels, users, messages, injected faults and every call received. */
import { createHash } from 'node:crypto';

export interface SlackChannelConfig {
  id: string;
  name: string;
  isPrivate?: boolean;
  isArchived?: boolean;
  /**
   * The app is not in it (it is by default): Slack then hides a private channel from the app (channel_not_found), and
   * lets it post to a public one (chat:write.public) but not show an ephemeral message there (not_in_channel).
   */
  withoutApp?: boolean;
  /** The users in it, by id; absent: every user of the workspace. chat.postEphemeral to anyone else: user_not_in_channel. */
  members?: string[];
}

export interface SlackUserConfig {
  id: string;
  name: string;
  email?: string;
  realName?: string;
  /** Deactivated: users.lookupByEmail then answers users_not_found, as Slack documents. */
  deleted?: boolean;
}

export interface SlackUsergroupConfig {
  id: string;
  handle: string;
  name?: string;
  users: string[];
}

export interface SlackStoredMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  subtype?: string;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  /** chat:write.customize: the name and icon the message shows instead of the app's. */
  username?: string;
  icon_emoji?: string;
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  user: string;
  bot_id?: string;
  /** How many times chat.update changed it. */
  updates: number;
  edited?: { user: string; ts: string };
}

/**
 * What the next call(s) of a method answer instead of doing their work; or, `loseAnswer`, a call that does its work
 * and whose answer is lost on the way back (the connection drops after Slack acted: the caller sees no HTTP status,
 * as on a timeout, and cannot tell whether its message was posted); or, a status with `afterWork`, a call that does
 * its work and whose answer a gateway on the way replaces with that status (a 504 after Slack posted); or, `slowMs`, a
 * call Slack does (and answers) only that long after it arrived: a caller with a shorter timeout gives up while its
 * message does not exist yet.
 */
export type SlackFault =
  | { status: number; retryAfter?: number; body?: unknown; afterWork?: boolean }
  | { ok: false; error: string }
  | { loseAnswer: true }
  | { slowMs: number };

/** A fault that answers every matching call until `until` (epoch ms): an outage, or a storm of 429s. */
interface FaultWindow {
  /** A method name, or '*' for every method. */
  method: string;
  fault: SlackFault;
  until: number;
  /** Only calls naming this channel (chat.postMessage's per-channel limit); every call when absent. */
  channel?: string;
}

export interface SlackCallRecord {
  method: string;
  /** The arguments as received (form fields are strings), without the token. */
  args: Record<string, unknown>;
  status: number;
  /** The `error` of an ok:false answer. */
  error?: string;
  /** When the call arrived, ISO 8601 with milliseconds. */
  at: string;
  /**
   * Which bearer token the call was made with, as tokenFingerprint(token): a test can tell which workspace's
   * token spoke without the token itself being kept (the recorded calls are served and dumped in logs).
   */
  tokenFingerprint?: string;
  /** Where the token came: Slack takes it as a bearer header or as a `token` argument. */
  tokenVia?: 'header' | 'argument';
  /** The workspace that token belongs to, when it is one minted by oauth.v2.access. */
  team?: string;
  /**
   * The call did its work but its answer was dropped (a `loseAnswer` fault) or replaced by a gateway's status (an
   * `afterWork` fault): `status` is what Slack's would have been.
   */
  answerLost?: boolean;
}

/** A message the app posted to a response_url (slash commands and interactions carry one). */
export interface SlackResponsePost {
  /** The last path segment of the response_url: which request is being answered. */
  id: string;
  /** The JSON posted: text and/or blocks, response_type (ephemeral, the default, or in_channel), replace_original… */
  body: Record<string, unknown>;
  /** When it arrived, ISO 8601 with milliseconds. */
  at: string;
}

/** What chat.postEphemeral showed to one person: Slack keeps no copy in the channel (no history, no replies). */
export interface SlackEphemeralMessage {
  channel: string;
  /** The only person who sees it. */
  user: string;
  thread_ts?: string;
  text: string;
  blocks?: unknown[];
  /** What Slack answers as message_ts. */
  message_ts: string;
  at: string;
}

/** A workspace the app was installed in through the stand-in's OAuth flow, and its bot there. */
export interface SlackTeam {
  teamId: string;
  teamName: string;
  botUserId: string;
  botId: string;
}

/** What the authorize page granted, until oauth.v2.access exchanges its code. */
export interface SlackOAuthGrant {
  team: SlackTeam;
  scope: string;
  userId: string;
  redirectUri?: string;
}

/** A token's recorded stand-in: the first 16 hex digits of its SHA-256. */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16);
}

/** The bot identity every configured token belongs to. */
export const SLACK_STAND_IN_BOT = {
  teamId: 'T0ALERTBUS',
  team: 'alertbus-stand-in',
  userId: 'U0ALERTBUS',
  userName: 'alertbus',
  botId: 'B0ALERTBUS',
  appId: 'A0ALERTBUS',
} as const;

/** Slack's ts ("<unix seconds>.<6 digits>") as microseconds, for ordering and windows. */
export function tsToMicros(ts: string): bigint {
  const m = /^(\d+)(?:\.(\d*))?$/.exec(ts.trim());
  if (!m) throw new Error(`not a Slack ts: ${ts}`);
  return BigInt(m[1]!) * 1_000_000n + BigInt((m[2] ?? '').padEnd(6, '0').slice(0, 6) || '0');
}

export function microsToTs(micros: bigint): string {
  return `${micros / 1_000_000n}.${(micros % 1_000_000n).toString().padStart(6, '0')}`;
}

const messageKey = (channel: string, ts: string): string => `${channel}\u0000${ts}`;

export class SlackState {
  readonly channels: SlackChannelConfig[];
  readonly users: SlackUserConfig[];
  readonly usergroups: SlackUsergroupConfig[];
  /** Every message kept, in order. Add through `store` and clear through `reset`: the look-ups below follow those two. */
  readonly messages: SlackStoredMessage[] = [];
  readonly calls: SlackCallRecord[] = [];
  /** The most messages a history or replies page holds, when Slack caps it (see SlackStandInOptions.readPageMax). */
  readPageMax: number | undefined;
  /** Every post to a response_url the stand-in handed out (see responseUrl in server.ts). */
  readonly responses: SlackResponsePost[] = [];
  /** response_url ids a test made expire (Slack's are good for 30 minutes after the command). */
  readonly expiredResponseUrls = new Set<string>();
  /** response_url ids whose posts a test made fail before any answer (the connection is closed: a network fault). */
  readonly unreachableResponseUrls = new Set<string>();
  /** Every chat.postEphemeral, in order (they are not among `messages`: Slack does not keep them). */
  readonly ephemerals: SlackEphemeralMessage[] = [];
  /** Codes the authorize page handed out, not yet exchanged. */
  readonly oauthCodes = new Map<string, SlackOAuthGrant>();
  /** Bot tokens minted by oauth.v2.access, and their workspace. */
  readonly teamsByToken = new Map<string, SlackTeam>();
  /** Direct message channels of the app with a user, by id (D…): not listed by conversations.list, as in Slack. */
  private readonly ims = new Map<string, SlackChannelConfig>();
  private readonly faults = new Map<string, SlackFault[]>();
  private windows: FaultWindow[] = [];
  private lastTs = 0n;
  /**
   * `messages` by channel and ts (the first stored), and each thread's replies in the order stored: a look-up per
   * call, where scanning every message made a long run's posts cost more the more had been posted before.
   */
  private readonly byTs = new Map<string, SlackStoredMessage>();
  private readonly repliesOf = new Map<string, SlackStoredMessage[]>();

  constructor(
    init: { channels: SlackChannelConfig[]; users: SlackUserConfig[]; usergroups: SlackUsergroupConfig[] },
    private readonly now: () => number = Date.now,
    private readonly onMessage?: (message: SlackStoredMessage) => void,
  ) {
    this.channels = init.channels.map((c) => ({ ...c, ...(c.members ? { members: [...c.members] } : {}) }));
    this.users = init.users.map((u) => ({ ...u }));
    this.usergroups = init.usergroups.map((g) => ({ ...g, users: [...g.users] }));
  }

  /** Makes the next `times` calls of `method` answer with `fault`. */
  failNext(method: string, fault: SlackFault, times = 1): void {
    const queue = this.faults.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(fault);
    this.faults.set(method, queue);
  }

  /**
   * Makes every call of `method` ('*' = every method) answer with `fault` for the next `durationMs`, after any
   * faults queued with failNext: Slack down (5xx) or throttling everything (429 with a Retry-After). With `channel`,
   * only the calls naming that channel: chat.postMessage's limit of about a message a second per channel.
   */
  failFor(method: string, fault: SlackFault, durationMs: number, channel?: string): void {
    this.windows.push({ method, fault, until: this.now() + durationMs, ...(channel !== undefined ? { channel } : {}) });
  }

  /** Ends every queued fault and every window at once: the API is healthy again. */
  clearFaults(): void {
    this.faults.clear();
    this.windows = [];
  }

  takeFault(method: string, channel?: unknown): SlackFault | undefined {
    const queue = this.faults.get(method);
    const fault = queue?.shift();
    if (queue && queue.length === 0) this.faults.delete(method);
    if (fault) return fault;
    const now = this.now();
    this.windows = this.windows.filter((w) => w.until > now);
    return this.windows.find((w) => (w.method === method || w.method === '*') && (w.channel === undefined || w.channel === channel))?.fault;
  }

  /** A fresh ts, strictly greater than every ts handed out before (like Slack's per-channel ts). */
  nextTs(): string {
    let micros = BigInt(Math.floor(this.now())) * 1000n;
    if (micros <= this.lastTs) micros = this.lastTs + 1n;
    this.lastTs = micros;
    return microsToTs(micros);
  }

  channelById(id: string): SlackChannelConfig | undefined {
    return this.channels.find((c) => c.id === id) ?? this.ims.get(id);
  }

  /**
   * The app's direct message channel with a user (created on first use), as chat.postMessage opens it when given a
   * user id as its channel; undefined for an unknown or deactivated user.
   */
  imWith(userId: string): SlackChannelConfig | undefined {
    const user = this.users.find((u) => u.id === userId && !u.deleted);
    if (!user) return undefined;
    const id = `D${user.id.slice(1)}`;
    let im = this.ims.get(id);
    if (!im) {
      im = { id, name: user.name, isPrivate: true };
      this.ims.set(id, im);
    }
    return im;
  }

  /** A channel by ID, `#name` or `name`, as chat.postMessage accepts. */
  channelByRef(ref: string): SlackChannelConfig | undefined {
    const name = ref.startsWith('#') ? ref.slice(1) : ref;
    return this.channelById(ref) ?? this.channels.find((c) => c.name === name);
  }

  /** A channel by reference as the app sees it: a private channel it is not in does not exist for it. */
  channelForApp(ref: string): SlackChannelConfig | undefined {
    const channel = this.channelByRef(ref);
    return channel?.isPrivate && channel.withoutApp ? undefined : channel;
  }

  /** Keeps a newly posted message and tells the `onMessage` listener. */
  store(message: SlackStoredMessage): SlackStoredMessage {
    this.messages.push(message);
    const key = messageKey(message.channel, message.ts);
    if (!this.byTs.has(key)) this.byTs.set(key, message);
    if (message.thread_ts !== undefined && message.thread_ts !== message.ts) {
      const thread = messageKey(message.channel, message.thread_ts);
      const replies = this.repliesOf.get(thread);
      if (replies) replies.push(message);
      else this.repliesOf.set(thread, [message]);
    }
    this.onMessage?.(message);
    return message;
  }

  message(channel: string, ts: string): SlackStoredMessage | undefined {
    return this.byTs.get(messageKey(channel, ts));
  }

  /** The replies in the thread of the message at `ts`, oldest first (the message itself not among them). */
  replies(channel: string, ts: string): readonly SlackStoredMessage[] {
    return this.repliesOf.get(messageKey(channel, ts)) ?? [];
  }

  /** Stores a message as if someone (by default a human, not the bot) had posted it. */
  addMessage(msg: Omit<SlackStoredMessage, 'ts' | 'updates' | 'user'> & { user?: string; ts?: string }): SlackStoredMessage {
    return this.store({ ...msg, user: msg.user ?? 'U0HUMAN', ts: msg.ts ?? this.nextTs(), updates: 0 });
  }

  /** Forgets messages, calls and pending faults; keeps channels, users and usergroups. */
  reset(): void {
    this.messages.length = 0;
    this.byTs.clear();
    this.repliesOf.clear();
    this.calls.length = 0;
    this.responses.length = 0;
    this.expiredResponseUrls.clear();
    this.unreachableResponseUrls.clear();
    this.ephemerals.length = 0;
    this.clearFaults();
  }
}
