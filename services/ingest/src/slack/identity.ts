/**
 * The app's own Slack identity (bot user id, bot id, workspace URL): from configuration, and from one
 * `auth.test` at start, retried in the background while Slack cannot be reached, so a Slack outage at boot
 * never stops the alert webhooks (the Slack endpoints answer 503 until the identity is known).
 */
import type { WebClient } from '@slack/web-api';
import { slackWebClient, type Logger } from '@alertbus/common';
import type { BotIdentity } from '@alertbus/normalise';
import { slackFailure } from './web-error';

export interface IdentitySource {
  /** The identity once at least one of the ids is known, else undefined. */
  current(): BotIdentity | undefined;
  /** Why it is not known yet, for the 503 message and /readyz-style diagnostics. */
  problem(): string | undefined;
}

export interface SlackIdentityOptions {
  configured: BotIdentity;
  botToken?: string;
  apiUrl: string;
  log: Logger;
  /** Waits between auth.test attempts; the last one repeats. */
  retryDelaysMs?: number[];
  requestTimeoutMs?: number;
}

export class SlackIdentity implements IdentitySource {
  private learned: BotIdentity = {};
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly web: WebClient | undefined;

  constructor(private readonly opts: SlackIdentityOptions) {
    this.web = opts.botToken
      ? slackWebClient({ token: opts.botToken, apiUrl: opts.apiUrl, timeoutMs: opts.requestTimeoutMs ?? 5_000, log: opts.log })
      : undefined;
  }

  current(): BotIdentity | undefined {
    const c = this.opts.configured;
    const identity: BotIdentity = {
      userId: c.userId ?? this.learned.userId,
      botId: c.botId ?? this.learned.botId,
      workspaceUrl: c.workspaceUrl ?? this.learned.workspaceUrl,
    };
    return identity.userId || identity.botId ? identity : undefined;
  }

  problem(): string | undefined {
    if (this.current()) return undefined;
    return `the app's own Slack identity is not known yet (auth.test: ${this.lastError ?? 'not answered yet'})`;
  }

  /** Resolves after the first auth.test attempt (or at once when nothing needs asking); later attempts run in the background. */
  async start(): Promise<void> {
    const c = this.opts.configured;
    if (!this.web || (c.userId && c.botId && c.workspaceUrl)) return;
    await this.attempt(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private async attempt(n: number): Promise<void> {
    if (this.stopped) return;
    try {
      const answer = await this.authTest();
      this.learned = { userId: answer.user_id, botId: answer.bot_id, workspaceUrl: answer.url };
      this.lastError = undefined;
      this.opts.log.info(
        { botUserId: answer.user_id, botId: answer.bot_id, workspaceUrl: answer.url },
        'learned the app\'s own Slack identity with auth.test',
      );
    } catch (err) {
      this.lastError = (err as Error).message;
      const delays = this.opts.retryDelaysMs ?? [1_000, 2_000, 5_000, 15_000, 60_000];
      const wait = delays[Math.min(n, delays.length - 1)]!;
      const level = this.current() ? 'warn' : 'error';
      this.opts.log[level]({ error: this.lastError, retryInMs: wait }, 'auth.test failed; Slack events wait for the app identity');
      this.timer = setTimeout(() => void this.attempt(n + 1), wait);
      this.timer.unref();
    }
  }

  private async authTest(): Promise<{ user_id?: string; bot_id?: string; url?: string }> {
    let answer;
    try {
      answer = await this.web!.auth.test();
    } catch (err) {
      throw new Error(slackFailure(err, [this.opts.botToken]));
    }
    if (!answer.user_id && !answer.bot_id) throw new Error('auth.test answered without user_id and bot_id');
    return answer;
  }
}

/** An identity that is simply known (tests, and configuration without a token). */
export function fixedIdentity(identity: BotIdentity): IdentitySource {
  const known = !!(identity.userId || identity.botId);
  return { current: () => (known ? identity : undefined), problem: () => (known ? undefined : 'no bot user id or bot id configured') };
}
