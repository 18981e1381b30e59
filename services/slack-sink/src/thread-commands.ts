import { DeliveryError, type Logger, type RetryPolicy } from '@alertbus/common';
import { GivenUpError, throwWhileSettling, type DeliveryOutcome, type SettleWindow } from '@alertbus/sink-runtime';
import type { PostedMessage, SlackClient } from './client';
import type { OnCallCache } from './oncall/cache';
import { lookUpOnCall } from './oncall/lookup';
import type { OnCallResolver } from './oncall/resolver';
import { cacheClearedText, onCallReplyText, type OnCallResolution } from './oncall/texts';
import type { CommandSteps } from './steps';
import type { ClientSource, TeamClient } from './team-clients';
import { DEFAULT_POST_SETTLE, lookUpOrThrow, RECONCILE_LOOKBACK_MS } from './reconcile';
import { callCommandWebhook, safeUrl, webhookFailedText, type WebhookResult } from './command-webhook';
import { SlackPlatformError } from './write-calls';
import type { ResponseUrlOrigins } from '@alertbus/normalise';
import { foreignResponseUrl, postToResponseUrl, RESPONSE_URL_LIFETIME_MS } from './slash-answers';
import { dryRunTs, ephemeralBody, threadReplyBody, toSlackTs, type EphemeralCommand, type ThreadCommand } from './wire';

export { DEFAULT_ONCALL_LOOKUP_ATTEMPTS } from './oncall/lookup';

export const THREAD_COMMAND_TYPES: ReadonlySet<string> = new Set(['ReplyWithOnCall', 'ClearOnCallCache', 'PostSlackReply', 'CallCommandWebhook', 'PostSlackEphemeral']);

/** The messages each command posts, in order; each is a step recorded once done. */
/** What chat.postEphemeral answers when the person cannot be shown anything there: no later try changes that. */
const EPHEMERAL_UNREACHABLE: ReadonlySet<string> = new Set(['user_not_in_channel', 'channel_not_found']);
/** A response_url post's bound when the deps name none. */
const RESPONSE_URL_TIMEOUT_MS = 10_000;

const POSTS: Record<ThreadCommand['type'], readonly string[]> = {
  ReplyWithOnCall: ['ack', 'answer'],
  ClearOnCallCache: ['reply'],
  PostSlackReply: ['reply'],
  CallCommandWebhook: ['reply'],
};

/** Every step of each command in the order execute takes them: its posts, and what is done between them. */
const STEPS: Record<ThreadCommand['type'], readonly string[]> = {
  ReplyWithOnCall: ['ack', 'resolved', 'answer'],
  ClearOnCallCache: ['cleared', 'reply'],
  PostSlackReply: ['reply'],
  CallCommandWebhook: ['called', 'reply'],
};

type Steps = Map<string, Record<string, unknown>>;

export interface ThreadCommandsDeps {
  /** The Web API client of the command's workspace; none in dry-run. */
  clients?: ClientSource;
  resolver?: OnCallResolver;
  cache: OnCallCache;
  steps: CommandSteps;
  log: Logger;
  /** Brief retries of the look-ups made while reconciling. */
  lookupRetry?: RetryPolicy;
  /** How long after an attempt a step's message not found may still be posted (postSettleWindow); default DEFAULT_POST_SETTLE. */
  settle?: SettleWindow;
  /** From this attempt on, a failing on-call lookup is answered in the thread instead of retried (default 4). */
  onCallLookupAttempts?: number;
  /** COMMAND_WEBHOOK_SECRET: signs the requests to `commands:` webhooks; unset, they are not called (the thread is told). */
  webhookSecret?: string;
  /** Bound of a response_url post (SLACK_REQUEST_TIMEOUT_MS). */
  timeoutMs?: number;
  /** How long after a click its response_url is tried (default Slack's 30 minutes; tests shorten it). */
  responseUrlLifetimeMs?: number;
  /** Where a response_url may point (responseUrlOrigins(SLACK_API_URL)); default Slack's hosts alone. */
  responseUrlOrigins?: ResponseUrlOrigins;
  now?: () => number;
}

/**
 * Executes the commands that answer in a given thread (command replies, the on-call answer, cache clear).
 * A command with several effects records each as a step (Postgres) right after it happened, and every message
 * carries `{command_id, step}` metadata, so after a crash the missing steps are looked for in the thread first:
 * each message is posted at most once across retries and restarts.
 */
export class ThreadCommands {
  constructor(private readonly deps: ThreadCommandsDeps) {}

  async execute(command: ThreadCommand | EphemeralCommand, attempt: number): Promise<DeliveryOutcome> {
    const team = await this.deps.clients?.forTeam(command.data.teamId);
    const client = team?.client;
    if (!client) throw new DeliveryError('no Slack token configured', true);
    if (command.type === 'PostSlackEphemeral') return this.ephemeral(client, command);
    const steps = await this.deps.steps.load(command.id);
    switch (command.type) {
      case 'CallCommandWebhook': {
        if (!steps.has('called')) {
          // Called once: a person asked, so a failure is told in the thread rather than retried for hours.
          const d = command.data;
          // The command id as Idempotency-Key: should the call not be recorded (a crash, Postgres failing), the next
          // attempt calls again with the same key, so the receiver can act once.
          const result = await callCommandWebhook(
            { url: d.url, timeoutMs: d.timeoutMs, secret: this.deps.webhookSecret, nowMs: (this.deps.now ?? Date.now)(), idempotencyKey: command.id },
            d.request,
          );
          if (result.outcome === 'failed') this.deps.log.warn({ commandId: command.id, url: safeUrl(d.url), error: result.error }, 'command webhook failed');
          await this.record(command, steps, 'called', { ...result });
        }
        const called = steps.get('called') as unknown as WebhookResult;
        const text = called.outcome === 'answered' ? called.text : webhookFailedText(command.data.request.command, called.error);
        await this.postOnce(client, command, steps, 'reply', { text });
        break;
      }
      case 'PostSlackReply': {
        const { text, blocks } = command.data;
        await this.postOnce(client, command, steps, 'reply', { text, blocks });
        break;
      }
      case 'ClearOnCallCache': {
        if (!steps.has('cleared')) {
          const cleared = await this.deps.cache.clear(command.data.schedule);
          await this.record(command, steps, 'cleared', { schedules: cleared });
          this.deps.log.info({ commandId: command.id, cleared, by: command.data.requestedBy }, 'on-call cache cleared');
        }
        const cleared = steps.get('cleared')!.schedules as string[];
        const text = cacheClearedText(command.data.requestedBy, cleared, command.data.schedule);
        await this.postOnce(client, command, steps, 'reply', { text });
        break;
      }
      case 'ReplyWithOnCall': {
        await this.postOnce(client, command, steps, 'ack', { text: command.data.acknowledgement });
        if (!steps.has('resolved')) {
          const resolution = await lookUpOnCall(this.deps, command.data.schedule, command.id, attempt, team);
          await this.record(command, steps, 'resolved', { ...resolution });
        }
        const resolution = steps.get('resolved') as unknown as OnCallResolution;
        await this.postOnce(client, command, steps, 'answer', { text: onCallReplyText(command.data, resolution) });
        break;
      }
    }
    return this.completed(command, steps)!;
  }

  /**
   * An answer for one person: at the click's response_url while it lives (it reaches them in a channel they are not a
   * member of), else, or when that URL fails, in the channel by chat.postEphemeral. Where Slack says that person cannot
   * be shown anything there, it is given up with why: a retry or a redrive would meet the same refusal.
   */
  private async ephemeral(client: SlackClient, command: EphemeralCommand): Promise<DeliveryOutcome> {
    const { channel, user, responseUrl, text } = command.data;
    let unreachable: DeliveryError | undefined =
      responseUrl && this.responseUrlLives(command) ? foreignResponseUrl(this.deps, command.id, responseUrl, 'the answer goes by chat.postEphemeral') : undefined;
    if (responseUrl && !unreachable && this.responseUrlLives(command)) {
      try {
        await postToResponseUrl(responseUrl, { response_type: 'ephemeral', replace_original: false, text }, this.deps.timeoutMs ?? RESPONSE_URL_TIMEOUT_MS);
        return { type: 'SlackEphemeralPosted', data: { channel, user, via: 'response_url' } };
      } catch (err) {
        // Slack limiting: the same host answers the Web API, so wait as asked. Anything else: the channel.
        if (!(err instanceof DeliveryError) || err.httpStatus === 429) throw err;
        unreachable = err;
      }
    }
    try {
      const { messageTs } = await client.postEphemeral(ephemeralBody(command));
      return { type: 'SlackEphemeralPosted', data: { channel, user, messageTs, ...(responseUrl ? { via: 'chat.postEphemeral' as const } : {}) } };
    } catch (err) {
      if (err instanceof SlackPlatformError && EPHEMERAL_UNREACHABLE.has(err.slackError)) {
        throw new GivenUpError('requester-unreachable', `${unreachable ? `${unreachable.message}; ` : ''}chat.postEphemeral: ${err.message}`);
      }
      throw err;
    }
  }

  private responseUrlLives(command: EphemeralCommand): boolean {
    const issuedAt = Date.parse(command.occurredAt);
    const now = (this.deps.now ?? Date.now)();
    return !Number.isFinite(issuedAt) || now - issuedAt < (this.deps.responseUrlLifetimeMs ?? RESPONSE_URL_LIFETIME_MS);
  }

  /**
   * After a crash: the steps whose message may have reached Slack without being recorded are looked for in
   * the thread by their metadata. Returns the outcome when every step is done, else undefined (execute then
   * does only what is missing). Throws while the step the attempt was at is a post not found that may still be made
   * (see postSettleWindow).
   */
  async reconcile(command: ThreadCommand | EphemeralCommand, startedAt: Date): Promise<DeliveryOutcome | undefined> {
    // An ephemeral answer leaves no trace to look for: shown again at worst.
    if (command.type === 'PostSlackEphemeral') return undefined;
    const client = (await this.deps.clients?.forTeam(command.data.teamId))?.client;
    const steps = await this.deps.steps.load(command.id);
    const missing = POSTS[command.type].filter((s) => !steps.has(s));
    if (client && missing.length > 0) {
      const oldest = toSlackTs(startedAt.getTime() - RECONCILE_LOOKBACK_MS);
      const { channel, threadTs } = command.data;
      // Throws while Slack does not answer the look-up: posting a step then could post it twice.
      const found = await lookUpOrThrow(() => client.findCommandMessages({ channel, threadTs, oldest, commandId: command.id }), {
        policy: this.deps.lookupRetry,
        log: this.deps.log,
        commandId: command.id,
        what: 'an earlier run in the thread',
        startedAt,
      });
      for (const m of found?.value ?? []) {
        if (m.step && missing.includes(m.step)) await this.record(command, steps, m.step, { channel, ts: m.ts });
      }
      // Only the step the attempt was at can be on its way; a later one was never sent, one before it is recorded.
      const at = STEPS[command.type].find((s) => !steps.has(s));
      if (found && at && POSTS[command.type].includes(at)) {
        throwWhileSettling(startedAt, this.deps.settle ?? DEFAULT_POST_SETTLE, `no ${at} message of command ${command.id} in thread ${threadTs}`);
      }
    }
    return this.completed(command, steps);
  }

  dryRun(command: ThreadCommand | EphemeralCommand): DeliveryOutcome {
    const ts = dryRunTs(command.id);
    if (command.type === 'PostSlackEphemeral') {
      const { channel, user } = command.data;
      return { type: 'SlackEphemeralPosted', data: { channel, user, messageTs: ts, request: { method: 'chat.postEphemeral', body: ephemeralBody(command) } } };
    }
    const thread = { channel: command.data.channel, ts, threadTs: command.data.threadTs };
    const first = (text: string, blocks?: unknown[]) => ({
      method: 'chat.postMessage',
      body: threadReplyBody(command, POSTS[command.type][0]!, { text, blocks }),
    });
    switch (command.type) {
      case 'PostSlackReply':
        return { type: 'SlackReplyPosted', data: { ...thread, request: first(command.data.text, command.data.blocks) } };
      case 'CallCommandWebhook':
        return {
          type: 'CommandWebhookAnswered',
          data: { ...thread, url: safeUrl(command.data.url), outcome: 'dry-run', request: { method: 'POST', body: command.data.request } },
        };
      case 'ClearOnCallCache':
        return {
          type: 'OnCallCacheCleared',
          data: { ...thread, cleared: [], request: first(cacheClearedText(command.data.requestedBy, [], command.data.schedule)) },
        };
      case 'ReplyWithOnCall':
        return {
          type: 'OnCallReplyPosted',
          data: {
            ...thread,
            acknowledgementTs: ts,
            schedule: command.data.schedule,
            outcome: 'dry-run',
            emails: [],
            slackUserIds: [],
            unmatchedEmails: [],
            cached: false,
            request: first(command.data.acknowledgement),
          },
        };
    }
  }

  private async postOnce(
    client: SlackClient,
    command: ThreadCommand,
    steps: Steps,
    step: string,
    content: { text: string; blocks?: unknown[] },
  ): Promise<void> {
    if (steps.has(step)) return;
    const posted: PostedMessage = await client.postMessage(threadReplyBody(command, step, content));
    await this.record(command, steps, step, { channel: posted.channel, ts: posted.ts });
  }

  private async record(command: ThreadCommand, steps: Steps, step: string, data: Record<string, unknown>): Promise<void> {
    await this.deps.steps.save(command.id, step, data);
    steps.set(step, data);
  }

  /** The delivery outcome once every step of the command is done, else undefined. */
  private completed(command: ThreadCommand, steps: Steps): DeliveryOutcome | undefined {
    const posts = POSTS[command.type];
    if (posts.some((s) => !steps.has(s))) return undefined;
    const last = steps.get(posts[posts.length - 1]!) as { channel: string; ts: string };
    const thread = { channel: last.channel, ts: last.ts, threadTs: command.data.threadTs };
    switch (command.type) {
      case 'PostSlackReply':
        return { type: 'SlackReplyPosted', data: thread };
      case 'CallCommandWebhook': {
        const r = steps.get('called') as unknown as WebhookResult | undefined;
        return {
          type: 'CommandWebhookAnswered',
          data: {
            ...thread,
            url: safeUrl(command.data.url),
            outcome: r?.outcome ?? 'failed',
            ...(r?.httpStatus !== undefined ? { httpStatus: r.httpStatus } : {}),
            ...(r?.outcome === 'failed' ? { error: r.error } : r ? {} : { error: 'the call of an earlier run was not recorded' }),
          },
        };
      }
      case 'ClearOnCallCache': {
        const cleared = (steps.get('cleared')?.schedules as string[] | undefined) ?? [];
        return { type: 'OnCallCacheCleared', data: { ...thread, cleared } };
      }
      case 'ReplyWithOnCall': {
        const r = steps.get('resolved') as unknown as OnCallResolution | undefined;
        const ack = steps.get('ack') as { ts: string };
        return {
          type: 'OnCallReplyPosted',
          data: {
            ...thread,
            acknowledgementTs: ack.ts,
            schedule: command.data.schedule,
            // A reconciled answer whose lookup record was lost cannot say more than that it was posted.
            outcome: r?.outcome ?? 'lookup-failed',
            emails: r?.emails ?? [],
            slackUserIds: r?.slackUserIds ?? [],
            unmatchedEmails: r?.unmatchedEmails ?? [],
            cached: r?.cached ?? false,
            ...(r?.error ? { error: r.error } : r ? {} : { error: 'the lookup of an earlier run was not recorded' }),
            ...(r?.knownAt ? { knownAt: r.knownAt } : {}),
          },
        };
      }
    }
  }
}
