import http from 'node:http';
import https from 'node:https';
import { DeliveryError, classifyStatus, parseRetryAfter, scrubSecrets } from '@alertbus/common';

/** The Web API methods called here: Slack's write methods, which take a JSON body. */
export type SlackWriteMethod = 'chat.postMessage' | 'chat.update';

/** An answer bigger than this is not read (chat.postMessage echoes the message: a few KiB, 40 KiB of text at most). */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/** An error code of Slack's Web API (`channel_not_found`, `ratelimited`, …): anything else in `error` is not Slack's answer. */
export const SLACK_ERROR_CODE = /^[a-z0-9_]{1,100}$/;

/**
 * `ok:false` errors that say "Slack had a bad moment", or "not now", worth another attempt after the usual back-off
 * (Slack documents no Retry-After with any of them); every other one is permanent.
 */
export const RETRYABLE_PLATFORM_ERRORS: ReadonlySet<string> = new Set([
  'ratelimited',
  // chat.postMessage's own, with an underscore: "Application has posted too many messages" (HTTP 200, no 429). Taken
  // as permanent, a root post was dead-lettered and every reply and update of its incident then had no root message.
  'rate_limited',
  // "Members on this team are sending too many messages" (Slack's usage limits for free workspaces): a limit that
  // lifts, not a refusal of this message.
  'message_limit_exceeded',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  // "The workspace … is currently undergoing migration to an Enterprise Organization. Web API and other platform
  // operations will be intermittently unavailable until the transition is complete" (Slack's error docs): an outage
  // with an end, not a refusal.
  'team_added_to_org',
  // "The workspace is undergoing an enterprise migration and will not be available until migration is complete": the
  // same outage with an end as team_added_to_org.
  'org_login_required',
]);

/**
 * `ok:false` errors that refuse the token (or the app's grant) rather than the call (Slack's common errors): every call
 * made with that token fails the same way until someone fixes it, by a new token, a scope added, the app reinstalled or
 * the workspace restored. With the sink's one SLACK_BOT_TOKEN that is a fault of the sink's configuration, and the
 * command waits (see SlackClient's `tokenRefusalWaits`); with an OAuth installation's token it is that workspace's, and
 * permanent, so that one revoked install does not hold back the others.
 */
export const TOKEN_REFUSED_ERRORS: ReadonlySet<string> = new Set([
  'not_authed',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'not_allowed_token_type',
  'team_access_not_granted',
  'ekm_access_denied',
  'accesslimited',
  'missing_scope',
]);

/** What someone must do in Slack when it refuses a call's channel: no retry fixes these. */
const CHANNEL_REFUSALS: ReadonlyMap<string, (channel: string) => string> = new Map([
  ['not_in_channel', (channel: string) => `invite the app to ${channel} (/invite @alertbus)`],
  ['is_archived', () => "the channel is archived: unarchive it or change the rule's channel"],
  ['channel_not_found', () => 'no such channel, or the app cannot see it (private channel: invite the app)'],
]);

/** The channel of a call: the ID (or name) it was made with, and the name a rule gave it when that is known. */
export interface CallChannel {
  id: string;
  name?: string;
}

/** ` for channel #ops (C0OPS): what to do` after Slack refused the call's channel; '' for any other error. */
export function channelRefusal(slackError: string, channel: CallChannel | undefined): string {
  const hint = CHANNEL_REFUSALS.get(slackError);
  if (!hint || !channel) return '';
  // Slack channel names are lower case; IDs (C…, G…, D…) upper case.
  const asName = (ref: string) => (/^[A-Z][A-Z0-9]{2,}$/.test(ref) ? undefined : `#${ref.replace(/^#/, '')}`);
  const name = channel.name !== undefined && channel.name !== channel.id ? asName(channel.name) : undefined;
  const where = name ? `${name} (${channel.id})` : (asName(channel.id) ?? channel.id);
  return ` for channel ${where}: ${hint(name ?? asName(channel.id) ?? `channel ${channel.id}`)}`;
}

/** An `ok:false` answer of the Web API, with Slack's error code (`channel_not_found`, `invalid_auth`, …). */
export class SlackPlatformError extends DeliveryError {
  /**
   * `answer`: what Slack said. With the call's channel, a refusal of that channel (CHANNEL_REFUSALS) also says which
   * channel and what to do about it.
   */
  constructor(
    readonly answer: string,
    readonly slackError: string,
    readonly channel?: CallChannel,
  ) {
    super(answer + channelRefusal(slackError, channel), !RETRYABLE_PLATFORM_ERRORS.has(slackError));
    this.name = 'SlackPlatformError';
  }

  /** The same refusal, naming the channel as the rule named it (`#ops`) beside the ID the call was made with. */
  named(name: string): SlackPlatformError {
    return this.channel ? new SlackPlatformError(this.answer, this.slackError, { id: this.channel.id, name }) : this;
  }
}

/** Slack's explanation of an ok:false answer (`response_metadata.messages`), at most three of them. */
export function platformDetails(data: unknown): string {
  const messages = (data as { response_metadata?: { messages?: unknown } })?.response_metadata?.messages;
  return Array.isArray(messages) && messages.length > 0 ? ` (${messages.slice(0, 3).join('; ')})` : '';
}

/**
 * The calls of the sink's hot path (every root post, reply and update) as plain JSON POSTs on a keep-alive
 * connection, with one attempt each: @slack/web-api's WebClient spent more CPU per call than the rest of the
 * command (its request queue, retry wrapper, axios' configuration merging, and debug lines it builds even when
 * nobody logs them). Every answer maps to a DeliveryError exactly as `toDeliveryError` maps the WebClient's: a 429
 * with its Retry-After, any other status but 200 by the shared classification, `ok:false` by the error's name,
 * a failed or timed-out request as retryable; the token never reaches a message.
 */
export class SlackWriteCalls {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;
  private readonly secrets: string[];

  constructor(private readonly opts: { token: string; apiUrl: string; timeoutMs: number }) {
    this.base = new URL(opts.apiUrl.endsWith('/') ? opts.apiUrl : `${opts.apiUrl}/`);
    const tls = this.base.protocol === 'https:';
    this.agent = tls ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
    this.request = tls ? https.request : http.request;
    this.secrets = [opts.token];
  }

  /** The answer's JSON when Slack said ok; else a DeliveryError saying whether to try again. */
  async call<T>(method: SlackWriteMethod, body: object): Promise<T> {
    const answer = await this.post(method, JSON.stringify(body));
    const headers = answer.headers;
    if (answer.status === 429) {
      const raw = headers['retry-after'];
      const seconds = raw === undefined ? Number.NaN : parseInt(String(raw), 10);
      if (Number.isNaN(seconds)) {
        throw new DeliveryError(`Slack answered HTTP 429 without a Retry header with a valid timeout (retry-after: ${String(raw)})`, false, 429);
      }
      throw new DeliveryError(`Slack rate limited the call (retry after ${seconds} s)`, false, 429, seconds >= 0 ? seconds * 1000 : undefined);
    }
    if (answer.status !== 200) {
      const retryAfter = headers['retry-after'];
      const retryAfterMs = parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, Date.now());
      throw new DeliveryError(`Slack answered HTTP ${answer.status}`, classifyStatus(answer.status) === 'permanent', answer.status, retryAfterMs);
    }
    let data: { ok?: unknown; error?: unknown } | undefined;
    try {
      data = JSON.parse(answer.text) as typeof data;
    } catch {
      data = undefined;
    }
    if (typeof data !== 'object' || data === null || typeof data.ok !== 'boolean' || (data.ok !== true && !(typeof data.error === 'string' && SLACK_ERROR_CODE.test(data.error)))) {
      // Not an answer of Slack's Web API (a proxy's or a load balancer's page, a cut answer): nothing says the call
      // failed for good, so it is tried again, as a 5xx is. Nor does anything say it was not done (a 200 of Slack's
      // own, cut short, is a done post): it counts as unanswered (no status), so the next attempt looks first.
      const type = String(headers['content-type'] ?? 'no content type').slice(0, 80);
      throw new DeliveryError(`Slack answered HTTP 200 with a body that is not a Web API answer (${type}, ${answer.text.length} characters)`, false);
    }
    if (data.ok !== true) {
      const error = data.error as string;
      const channel = (body as { channel?: unknown }).channel;
      throw new SlackPlatformError(
        scrubSecrets(`Slack answered ${error}${platformDetails(data)}`, this.secrets),
        error,
        typeof channel === 'string' ? { id: channel } : undefined,
      );
    }
    return data as T;
  }

  private post(method: SlackWriteMethod, json: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
    const url = new URL(method, this.base);
    return new Promise((resolve, reject) => {
      const fail = (err: Error) =>
        reject(new DeliveryError(scrubSecrets(`request to Slack failed: ${err.message}`, this.secrets), false));
      const req = this.request(
        url,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'content-length': Buffer.byteLength(json),
            authorization: `Bearer ${this.opts.token}`,
            'user-agent': 'alertbus-slack-sink',
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let bytes = 0;
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (bytes > MAX_ANSWER_BYTES) {
              req.destroy(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
          });
          res.on('error', fail);
        },
      );
      const timer = setTimeout(() => req.destroy(new Error(`timeout of ${this.opts.timeoutMs}ms exceeded`)), this.opts.timeoutMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        fail(err);
      });
      req.end(json);
    });
  }

  /** Closes the idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }
}
