import { ErrorCode, type ChatPostEphemeralArguments, type WebClient } from '@slack/web-api';
import { DeliveryError, classifyStatus, parseRetryAfter, scrubSecrets, slackWebClient, type Logger } from '@alertbus/common';
import { COMMAND_EVENT_TYPE, type PostEphemeralBody, type PostMessageBody, type UpdateMessageBody } from './wire';
import { RETRYABLE_PLATFORM_ERRORS, SLACK_ERROR_CODE, SlackWriteCalls, platformDetails } from './write-calls';

export { RETRYABLE_PLATFORM_ERRORS };

/** How long a channel-name miss is trusted before conversations.list (Tier 2) is asked again. */
const CHANNEL_LIST_MIN_INTERVAL_MS = 60_000;
const HISTORY_MAX_PAGES = 10;

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
      const error = data.error;
      return new DeliveryError(
        scrub(`Slack answered ${error}${platformDetails(e.data)}`),
        !RETRYABLE_PLATFORM_ERRORS.has(error),
      );
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
}

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

  constructor(opts: SlackClientOptions) {
    this.secrets = [opts.token];
    this.now = opts.now ?? Date.now;
    this.web = slackWebClient({ token: opts.token, apiUrl: opts.apiUrl, timeoutMs: opts.timeoutMs, log: opts.log });
    this.writes = new SlackWriteCalls({ token: opts.token, apiUrl: opts.apiUrl, timeoutMs: opts.timeoutMs });
  }

  private async call<T>(fn: () => Promise<T>, acceptError?: (error: string) => boolean): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      const e = err as { code?: string; data?: { error?: unknown } };
      if (acceptError && e.code === ErrorCode.PlatformError && acceptError(String(e.data?.error))) return undefined;
      throw toDeliveryError(err, this.secrets);
    }
  }

  private async must<T>(fn: () => Promise<T>): Promise<T> {
    return (await this.call(fn)) as T;
  }

  /** The Slack user id with this email, or undefined when nobody (active) has it (needs users:read.email). */
  async lookupUserByEmail(email: string): Promise<string | undefined> {
    const res = await this.call(() => this.web.users.lookupByEmail({ email }), (error) => error === 'users_not_found');
    const user = res?.user;
    return user?.id && !user.deleted ? user.id : undefined;
  }

  /** The members of a user group (usergroups.users.list, needs usergroups:read). */
  async usergroupMembers(usergroup: string): Promise<string[]> {
    const res = await this.must(() => this.web.usergroups.users.list({ usergroup }));
    return res.users ?? [];
  }

  /** Replaces the whole membership of a user group (usergroups.users.update, needs usergroups:write; never empty). */
  async setUsergroupMembers(usergroup: string, users: readonly string[]): Promise<void> {
    await this.must(() => this.web.usergroups.users.update({ usergroup, users: users.join(',') }));
  }

  /** Every message in a thread (since `oldest`) that carries this command id in its metadata, with its step. */
  async findCommandMessages(q: { channel: string; threadTs: string; oldest: string; commandId: string }): Promise<CommandMessage[]> {
    const out: CommandMessage[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < HISTORY_MAX_PAGES; page++) {
      const res = await this.must(() =>
        this.web.conversations.replies({ channel: q.channel, ts: q.threadTs, oldest: q.oldest, include_all_metadata: true, limit: 200, cursor }),
      );
      for (const m of res.messages ?? []) {
        const payload = m.metadata?.event_payload as { command_id?: unknown; step?: unknown } | undefined;
        if (m.ts && m.metadata?.event_type === COMMAND_EVENT_TYPE && payload?.command_id === q.commandId) {
          out.push({ ts: m.ts, ...(typeof payload.step === 'string' ? { step: payload.step } : {}) });
        }
      }
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!cursor) break;
    }
    return out;
  }

  async postMessage(body: PostMessageBody): Promise<PostedMessage> {
    const res = await this.writes.call<{ channel?: string; ts?: string }>('chat.postMessage', body);
    if (!res.channel || !res.ts) throw new DeliveryError('Slack answered ok without channel and ts', false);
    return { channel: res.channel, ts: res.ts };
  }

  /** An answer only `body.user` sees; Slack keeps no copy, so there is nothing to find again after a crash. */
  async postEphemeral(body: PostEphemeralBody): Promise<{ messageTs: string }> {
    const res = await this.must(() => this.web.chat.postEphemeral(body as unknown as ChatPostEphemeralArguments));
    return { messageTs: res.message_ts ?? '' };
  }

  async update(body: UpdateMessageBody): Promise<PostedMessage> {
    const res = await this.writes.call<{ channel?: string; ts?: string }>('chat.update', body);
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
    if (cached || this.now() - this.listedAt < CHANNEL_LIST_MIN_INTERVAL_MS) return cached;
    await this.listChannels();
    return this.channelIds.get(name);
  }

  /** Remembers a name → ID pair learnt from a post by name. */
  rememberChannel(ref: string, id: string): void {
    if (!isChannelId(ref) && isChannelId(id)) this.channelIds.set(ref.replace(/^#/, '').toLowerCase(), id);
  }

  private async listChannels(): Promise<void> {
    try {
      await this.listChannelsOfTypes('public_channel,private_channel');
    } catch (err) {
      // Without groups:read the bot cannot list private channels; public ones are still worth knowing.
      if (!(err instanceof DeliveryError && /missing_scope/.test(err.message))) throw err;
      await this.listChannelsOfTypes('public_channel');
    }
    this.listedAt = this.now();
  }

  private async listChannelsOfTypes(types: string): Promise<void> {
    let cursor: string | undefined;
    do {
      const res = await this.must(() =>
        this.web.conversations.list({ types, exclude_archived: true, limit: 1000, cursor }),
      );
      for (const c of res.channels ?? []) if (c.id && c.name) this.channelIds.set(c.name.toLowerCase(), c.id);
      cursor = res.response_metadata?.next_cursor || undefined;
    } while (cursor);
  }

  /**
   * Finds the message a command posted, by the command id in its metadata: among the channel's messages
   * since `oldest`, or among the replies of a thread when `threadTs` is given.
   */
  async findCommandMessage(q: {
    channel: string;
    threadTs?: string;
    oldest: string;
    commandId: string;
  }): Promise<PostedMessage | undefined> {
    let cursor: string | undefined;
    for (let page = 0; page < HISTORY_MAX_PAGES; page++) {
      const args = { channel: q.channel, oldest: q.oldest, include_all_metadata: true, limit: 200, cursor };
      const res = await this.must(() =>
        q.threadTs ? this.web.conversations.replies({ ...args, ts: q.threadTs }) : this.web.conversations.history(args),
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
    return undefined;
  }
}
