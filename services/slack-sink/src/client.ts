import { ErrorCode, type ChatPostEphemeralArguments, type WebClient } from '@slack/web-api';
import { DeliveryError, classifyStatus, parseRetryAfter, scrubSecrets, slackWebClient, type Logger } from '@alertbus/common';
import { NotSentError } from '@alertbus/sink-runtime';
import { COMMAND_EVENT_TYPE, type PostEphemeralBody, type PostMessageBody, type UpdateMessageBody } from './wire';
import { RETRYABLE_PLATFORM_ERRORS, SLACK_ERROR_CODE, SlackPlatformError, SlackWriteCalls, TOKEN_REFUSED_ERRORS, platformDetails } from './write-calls';
import type { SlackWriteMethod } from './write-calls';
import { RateGate } from './rate-gate';

export { RETRYABLE_PLATFORM_ERRORS, TOKEN_REFUSED_ERRORS };

/** How long a channel-name miss is trusted before conversations.list (Tier 2) is asked again. */
const CHANNEL_LIST_MIN_INTERVAL_MS = 60_000;
/**
 * How long a channel's name → ID is trusted: a channel renamed keeps its ID, and a name archived and made again gets a
 * new one; the name a rule routes to is followed within this long (and at once when a post to the old ID fails).
 */
const CHANNEL_NAME_TTL_MS = 10 * 60_000;

/** Slack's answers to a post to a channel ID that no longer stands for the name it was looked up by. */
export const CHANNEL_GONE = /\b(is_archived|channel_not_found|not_in_channel)\b/;
const HISTORY_MAX_PAGES = 10;
/** How soon a look-up that ran out of pages is made again: an app installed from outside the Marketplace reads once a minute. */
const UNFINISHED_LOOK_AGAIN_MS = 60_000;

/**
 * A look-up of a command's message that read HISTORY_MAX_PAGES pages with more left: whether the message is there is
 * unknown (15 messages a page for an app installed from outside the Slack Marketplace), so it is not "not there".
 * Retryable, and looked for again after UNFINISHED_LOOK_AGAIN_MS.
 */
export class LookUpUnfinished extends DeliveryError {
  constructor(method: string, channel: string) {
    super(
      `${method} of ${channel}: ${HISTORY_MAX_PAGES} pages read and more left, the command's message not among them: cannot tell whether it was posted`,
      false,
      undefined,
      UNFINISHED_LOOK_AGAIN_MS,
    );
    this.name = 'LookUpUnfinished';
  }
}

/**
 * Maps whatever @slack/web-api 7.x threw to a DeliveryError that says whether to try again: ok:false by the
 * error name, HTTP errors and 429s by the shared status classification, transport errors as retryable.
 */
export function toDeliveryError(err: unknown, secrets: ReadonlyArray<string | undefined> = []): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const e = (err ?? {}) as { code?: string; message?: string; [k: string]: unknown };
  const scrub = (m: string) => scrubSecrets(m, secrets);
  switch (e.code) {
    case ErrorCode.PlatformError: {
      const data = e.data as { ok?: unknown; error?: unknown } | undefined;
      // @slack/web-api turns a body that is not JSON into { ok: false, error: <the body> }. Slack's own errors are
      // snake_case codes; anything else (a proxy's page, a cut answer) says nothing about the call: tried again.
      if (typeof data?.error !== 'string' || !SLACK_ERROR_CODE.test(data.error)) {
        const what = typeof data?.error === 'string' ? `${data.error.length} characters of text` : 'no error code';
        return new DeliveryError(`Slack answered with a body that is not a Web API answer (${what})`, false);
      }
      return new SlackPlatformError(scrub(`Slack answered ${data.error}${platformDetails(e.data)}`), data.error);
    }
    case ErrorCode.RateLimitedError: {
      const seconds = Number(e.retryAfter);
      const retryAfterMs = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
      return new DeliveryError(`Slack rate limited the call (retry after ${seconds} s)`, false, 429, retryAfterMs);
    }
    case ErrorCode.HTTPError: {
      const status = Number(e.statusCode);
      const headers = (e.headers ?? {}) as Record<string, string | string[] | undefined>;
      const retryAfter = headers['retry-after'];
      const retryAfterMs = parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, Date.now());
      return new DeliveryError(`Slack answered HTTP ${status}`, classifyStatus(status) === 'permanent', status, retryAfterMs);
    }
    case ErrorCode.RequestError: {
      const original = (e.original as Error | undefined)?.message ?? e.message ?? 'request failed';
      return new DeliveryError(scrub(`request to Slack failed: ${original}`), false);
    }
    default: {
      const message = scrub(e.message ?? String(err));
      // A 429 without a usable Retry-After surfaces as a plain Error from the client.
      if (/rate limit|Retry header/i.test(message)) return new DeliveryError(message, false, 429);
      return new DeliveryError(message, false);
    }
  }
}

/** True for a channel ID (C…, G…, D…) as opposed to a name; Slack channel names are lower case. */
export function isChannelId(ref: string): boolean {
  return /^[CGD][A-Z0-9]{2,}$/.test(ref);
}

export interface SlackClientOptions {
  token: string;
  apiUrl: string;
  timeoutMs: number;
  log: Logger;
  now?: () => number;
  /**
   * The token is the sink's only one (SLACK_BOT_TOKEN, no OAuth installations): Slack refusing it (TOKEN_REFUSED_ERRORS)
   * refuses every command alike, so it is a retryable fault of the sink, not a permanent one of the command.
   */
  tokenRefusalWaits?: boolean;
  /**
   * The workspace's hold on rate-limited methods, shared by every client of its tokens (a reinstall's new token is
   * limited as the old one was); a gate of its own when not given.
   */
  rateGate?: RateGate;
}

/** Writes (chat.*) need chat:write, which every command needs; reads need scopes the sink can do without. */
type CallKind = 'write' | 'read';

export interface PostedMessage {
  channel: string;
  ts: string;
}

/** A message found by its command metadata, with the step it was (when the command posts several). */
export interface CommandMessage {
  ts: string;
  step?: string;
}

/**
 * The Web API calls the sink makes, with the client's own retries off (the shared policy governs), every
 * failure mapped to a DeliveryError, and channel names resolved to IDs once and cached.
 */
export class SlackClient {
  private readonly web: WebClient;
  /** chat.postMessage and chat.update, the calls of every command: see SlackWriteCalls. */
  private readonly writes: SlackWriteCalls;
  private readonly secrets: string[];
  private readonly channelIds = new Map<string, string>();
  private listedAt = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;
  private readonly tokenRefusalWaits: boolean;
  private readonly log: Logger;
  /** Slack's error code that refused the token, while no call has succeeded since. */
  private refused: string | undefined;
  /** Methods Slack answered 429, not called again until its Retry-After is over: one 429 for all partitions, not one each. */
  private readonly gate: RateGate;

  constructor(opts: SlackClientOptions) {
    this.secrets = [opts.token];
    this.now = opts.now ?? Date.now;
    this.tokenRefusalWaits = opts.tokenRefusalWaits ?? false;
    this.log = opts.log;
    this.gate = opts.rateGate ?? new RateGate(this.now);
    this.web = slackWebClient({ token: opts.token, apiUrl: opts.apiUrl, timeoutMs: opts.timeoutMs, log: opts.log });
    this.writes = new SlackWriteCalls({ token: opts.token, apiUrl: opts.apiUrl, timeoutMs: opts.timeoutMs });
  }

  /**
   * Why Slack calls cannot succeed although the sink runs: the sink's only token was refused (its Slack error, never the
   * token), until a call with it succeeds again; undefined otherwise.
   */
  tokenProblem(): string | undefined {
    if (!this.refused) return undefined;
    return `Slack refuses SLACK_BOT_TOKEN (${this.refused}): every Slack command waits until the token, its scopes or the app's installation are fixed`;
  }

  /** A call of the Web API `method` through the WebClient, not made while Slack's rate limit on the method lasts. */
  private async call<T>(method: string, fn: () => Promise<T>, acceptError?: (error: string) => boolean, kind: CallKind = 'read'): Promise<T | undefined> {
    this.gate.check(method);
    let res: T;
    try {
      res = await fn();
    } catch (err) {
      const e = err as { code?: string; data?: { error?: unknown } };
      if (acceptError && e.code === ErrorCode.PlatformError && acceptError(String(e.data?.error))) return undefined;
      const failure = toDeliveryError(err, this.secrets);
      this.gate.note(method, failure);
      throw this.refusal(failure, kind);
    }
    this.answered(kind);
    return res;
  }

  private async must<T>(method: string, fn: () => Promise<T>, kind: CallKind = 'read'): Promise<T> {
    return (await this.call(method, fn, undefined, kind)) as T;
  }

  /**
   * A chat.postMessage or chat.update, not made while Slack's rate limit on the method lasts, with a refusal of the
   * token classified as every other call's.
   */
  private async write<T>(method: SlackWriteMethod, body: object): Promise<T> {
    // chat.postMessage is limited per channel as well as per workspace: its hold starts with the channel answered 429.
    const channel = (body as { channel?: unknown }).channel;
    const scope = method === 'chat.postMessage' && typeof channel === 'string' ? channel : undefined;
    this.gate.check(method, scope);
    let res: T;
    try {
      res = await this.writes.call<T>(method, body);
    } catch (err) {
      this.gate.note(method, err, scope);
      throw err instanceof DeliveryError ? this.refusal(err, 'write') : err;
    }
    this.answered('write');
    return res;
  }

  /**
   * A refusal of the sink's only token, as a retryable error that says what to fix (the command waits: DeliveryDelayed
   * with this message); every other error as it is. `missing_scope` counts on the calls every command makes (chat:write):
   * a read's missing scope is a feature the sink does without (private channels it cannot list, a look-up it cannot make).
   */
  private refusal(err: DeliveryError, kind: CallKind): DeliveryError {
    if (!this.tokenRefusalWaits || !(err instanceof SlackPlatformError) || !TOKEN_REFUSED_ERRORS.has(err.slackError)) return err;
    if (err.slackError === 'missing_scope' && kind !== 'write') return err;
    if (!this.refused) {
      this.log.error(
        { slackError: err.slackError },
        `Slack refuses SLACK_BOT_TOKEN (${err.slackError}): every Slack command waits and is retried until the token, its scopes or the app's installation are fixed`,
      );
    }
    this.refused = err.slackError;
    // Slack refused the call before doing anything: the next attempt need not look whether it was posted.
    return new NotSentError(`${err.message} — Slack refused SLACK_BOT_TOKEN: the command waits and is retried until the token, its scopes or the app's installation are fixed`);
  }

  /** A call succeeded: the token is taken again (a missing chat:write shows on writes only, so only a write clears that). */
  private answered(kind: CallKind): void {
    if (!this.refused || (this.refused === 'missing_scope' && kind !== 'write')) return;
    this.log.info({ slackError: this.refused }, 'Slack takes SLACK_BOT_TOKEN again: the waiting commands go out');
    this.refused = undefined;
  }

  /** The Slack user id with this email, or undefined when nobody (active) has it (needs users:read.email). */
  async lookupUserByEmail(email: string): Promise<string | undefined> {
    const res = await this.call('users.lookupByEmail', () => this.web.users.lookupByEmail({ email }), (error) => error === 'users_not_found');
    const user = res?.user;
    return user?.id && !user.deleted ? user.id : undefined;
  }

  /** The members of a user group (usergroups.users.list, needs usergroups:read). */
  async usergroupMembers(usergroup: string): Promise<string[]> {
    const res = await this.must('usergroups.users.list', () => this.web.usergroups.users.list({ usergroup }));
    return res.users ?? [];
  }

  /** Replaces the whole membership of a user group (usergroups.users.update, needs usergroups:write; never empty). */
  async setUsergroupMembers(usergroup: string, users: readonly string[]): Promise<void> {
    await this.must('usergroups.users.update', () => this.web.usergroups.users.update({ usergroup, users: users.join(',') }));
  }

  /**
   * A read of a channel's messages (conversations.history, conversations.replies). A bot token reads only the channels
   * the bot is a member of, while chat:write.public lets it post in any public channel: a post there whose answer was
   * lost could not be looked for, and was posted a second time. On not_in_channel the bot joins the channel
   * (conversations.join, channels:join: public channels only) and reads once more. When it cannot join, the refusal
   * says both answers; a join that got no answer is tried again later like any look-up (the post waits).
   */
  private async reading<T>(channel: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (err) {
      if (!(err instanceof SlackPlatformError) || err.slackError !== 'not_in_channel') throw err;
      try {
        await this.must('conversations.join', () => this.web.conversations.join({ channel }));
      } catch (joinErr) {
        const j = joinErr as DeliveryError;
        throw new DeliveryError(
          `cannot read ${channel}: the bot is not a member (not_in_channel) and joining it failed: ${j.message}; invite the bot to the channel (or grant channels:join)`,
          j.permanent,
          j.httpStatus,
          j.retryAfterMs,
        );
      }
      this.log.info({ channel }, 'joined the channel to read its messages: the bot had posted there without being a member');
      return read();
    }
  }

  /**
   * Every message in a thread (since `oldest`) that carries this command id in its metadata, with its step. Throws
   * LookUpUnfinished when the pages it may read end before the replies do.
   */
  async findCommandMessages(q: { channel: string; threadTs: string; oldest: string; commandId: string }): Promise<CommandMessage[]> {
    const out: CommandMessage[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < HISTORY_MAX_PAGES; page++) {
      const res = await this.reading(q.channel, () =>
        this.must('conversations.replies', () =>
          this.web.conversations.replies({ channel: q.channel, ts: q.threadTs, oldest: q.oldest, include_all_metadata: true, limit: 200, cursor }),
        ),
      );
      for (const m of res.messages ?? []) {
        const payload = m.metadata?.event_payload as { command_id?: unknown; step?: unknown } | undefined;
        if (m.ts && m.metadata?.event_type === COMMAND_EVENT_TYPE && payload?.command_id === q.commandId) {
          out.push({ ts: m.ts, ...(typeof payload.step === 'string' ? { step: payload.step } : {}) });
        }
      }
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!cursor) return out;
    }
    throw new LookUpUnfinished('conversations.replies', q.channel);
  }

  async postMessage(body: PostMessageBody): Promise<PostedMessage> {
    const res = await this.write<{ channel?: string; ts?: string }>('chat.postMessage', body);
    if (!res.channel || !res.ts) throw new DeliveryError('Slack answered ok without channel and ts', false);
    return { channel: res.channel, ts: res.ts };
  }

  /** An answer only `body.user` sees; Slack keeps no copy, so there is nothing to find again after a crash. */
  async postEphemeral(body: PostEphemeralBody): Promise<{ messageTs: string }> {
    const res = await this.must('chat.postEphemeral', () => this.web.chat.postEphemeral(body as unknown as ChatPostEphemeralArguments), 'write');
    return { messageTs: res.message_ts ?? '' };
  }

  async update(body: UpdateMessageBody): Promise<PostedMessage> {
    const res = await this.write<{ channel?: string; ts?: string }>('chat.update', body);
    return { channel: res.channel ?? body.channel, ts: res.ts ?? body.ts };
  }

  /**
   * The channel ID for an ID, `#name` or `name`; undefined when the name is not among the channels the bot
   * can list (then Slack itself gets the name and decides).
   */
  async resolveChannel(ref: string): Promise<string | undefined> {
    if (isChannelId(ref)) return ref;
    const name = ref.replace(/^#/, '').toLowerCase();
    const cached = this.channelIds.get(name);
    const age = this.now() - this.listedAt;
    if (age < (cached ? CHANNEL_NAME_TTL_MS : CHANNEL_LIST_MIN_INTERVAL_MS)) return cached;
    try {
      await this.listChannels();
    } catch (err) {
      // A name known already is still the best guess while Slack does not list (rate-limited, down).
      if (cached) return cached;
      throw err;
    }
    return this.channelIds.get(name);
  }

  /**
   * Forgets the ID a name was resolved to, after a post to it was refused as archived or unknown: the next look-up
   * lists the channels again (or gives the name to Slack).
   */
  forgetChannel(ref: string): void {
    if (isChannelId(ref)) return;
    this.channelIds.delete(ref.replace(/^#/, '').toLowerCase());
    this.listedAt = Number.NEGATIVE_INFINITY;
  }

  /** Remembers a name → ID pair learnt from a post by name. */
  rememberChannel(ref: string, id: string): void {
    if (!isChannelId(ref) && isChannelId(id)) this.channelIds.set(ref.replace(/^#/, '').toLowerCase(), id);
  }

  /** Lists the channels afresh: a name that is no longer listed (renamed, archived) is forgotten. */
  private async listChannels(): Promise<void> {
    const listed = new Map<string, string>();
    try {
      await this.listChannelsOfTypes('public_channel,private_channel', listed);
    } catch (err) {
      // Without groups:read the bot cannot list private channels; public ones are still worth knowing.
      if (!(err instanceof DeliveryError && /missing_scope/.test(err.message))) throw err;
      listed.clear();
      await this.listChannelsOfTypes('public_channel', listed);
    }
    this.channelIds.clear();
    for (const [name, id] of listed) this.channelIds.set(name, id);
    this.listedAt = this.now();
  }

  private async listChannelsOfTypes(types: string, into: Map<string, string>): Promise<void> {
    let cursor: string | undefined;
    do {
      const res = await this.must('conversations.list', () =>
        this.web.conversations.list({ types, exclude_archived: true, limit: 1000, cursor }),
      );
      for (const c of res.channels ?? []) if (c.id && c.name) into.set(c.name.toLowerCase(), c.id);
      cursor = res.response_metadata?.next_cursor || undefined;
    } while (cursor);
  }

  /**
   * Finds the message a command posted, by the command id in its metadata: among the channel's messages
   * since `oldest`, or among the replies of a thread when `threadTs` is given. Throws LookUpUnfinished when the pages
   * it may read end before the messages do.
   */
  async findCommandMessage(q: {
    channel: string;
    threadTs?: string;
    oldest: string;
    /** No message newer than this is read (see reconcileWindow). */
    latest?: string;
    commandId: string;
  }): Promise<PostedMessage | undefined> {
    let cursor: string | undefined;
    for (let page = 0; page < HISTORY_MAX_PAGES; page++) {
      const args = { channel: q.channel, oldest: q.oldest, ...(q.latest ? { latest: q.latest } : {}), include_all_metadata: true, limit: 200, cursor };
      const res = await this.reading(q.channel, () =>
        this.must(q.threadTs ? 'conversations.replies' : 'conversations.history', () =>
          q.threadTs ? this.web.conversations.replies({ ...args, ts: q.threadTs }) : this.web.conversations.history(args),
        ),
      );
      const hit = (res.messages ?? []).find(
        (m) =>
          m.metadata?.event_type === COMMAND_EVENT_TYPE &&
          (m.metadata.event_payload as { command_id?: unknown } | undefined)?.command_id === q.commandId,
      );
      if (hit?.ts) return { channel: q.channel, ts: hit.ts };
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!cursor) return undefined;
    }
    throw new LookUpUnfinished(q.threadTs ? 'conversations.replies' : 'conversations.history', q.channel);
  }
}

/**
 * Posts to a channel a rule names (an ID, `#name` or `name`): by the ID the name was last seen with, and once more by
 * the name's current ID (or the name itself) when Slack refuses that one as archived, unknown or left. A channel
 * archived and made again under its name got every root post dead-lettered until the sink restarted. Nothing was
 * posted by the refused call, so the second cannot post twice.
 */
export async function postToNamedChannel(client: SlackClient, requested: string, post: (channel: string) => Promise<PostedMessage>): Promise<PostedMessage> {
  const channel = (await client.resolveChannel(requested)) ?? requested;
  let res: PostedMessage;
  try {
    res = await post(channel);
  } catch (err) {
    if (channel === requested || !(err instanceof DeliveryError) || !err.permanent || !CHANNEL_GONE.test(err.message)) throw named(err, requested);
    client.forgetChannel(requested);
    const again = (await client.resolveChannel(requested)) ?? requested;
    if (again === channel) throw named(err, requested);
    try {
      res = await post(again);
    } catch (second) {
      throw named(second, requested);
    }
  }
  client.rememberChannel(requested, res.channel);
  return res;
}

/** A refusal of the channel, saying the name the rule gave it as well as the ID it was posted to. */
function named(err: unknown, requested: string): unknown {
  return err instanceof SlackPlatformError ? err.named(requested) : err;
}
