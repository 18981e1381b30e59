/**
 * The app's own Slack identity (bot user id, bot id, workspace URL): from configuration, and from one
 * `auth.test` at start, retried in the background while Slack cannot be reached, so a Slack outage at boot
 * never stops the alert webhooks (the Slack endpoints answer 503 until the identity is known).
 */
import { scrubSecrets, type Logger } from '@alertbus/common';
import type { BotIdentity } from '@alertbus/normalise';

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

interface AuthTestAnswer {
  ok: boolean;
  error?: string;
  url?: string;
  user_id?: string;
  bot_id?: string;
}

export class SlackIdentity implements IdentitySource {
  private learned: BotIdentity = {};
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly opts: SlackIdentityOptions) {}

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
    if (!this.opts.botToken || (c.userId && c.botId && c.workspaceUrl)) return;
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

  private async authTest(): Promise<AuthTestAnswer> {
    const token = this.opts.botToken!;
    let res: Response;
    try {
      res = await fetch(`${this.opts.apiUrl}auth.test`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: '',
        signal: AbortSignal.timeout(this.opts.requestTimeoutMs ?? 5_000),
      });
    } catch (err) {
      const e = err as { message?: string; name?: string; cause?: { code?: string; message?: string } };
      const detail = e.cause?.code ?? (e.name === 'TimeoutError' ? 'timeout' : (e.cause?.message ?? e.message));
      throw new Error(scrubSecrets(`request failed: ${detail}`, [token]));
    }
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const body = (await res.json().catch(() => ({ ok: false, error: 'not JSON' }))) as AuthTestAnswer;
    if (!body.ok) throw new Error(body.error ?? 'ok:false');
    if (!body.user_id && !body.bot_id) throw new Error('auth.test answered without user_id and bot_id');
    return body;
  }
}

/** An identity that is simply known (tests, and configuration without a token). */
export function fixedIdentity(identity: BotIdentity): IdentitySource {
  const known = !!(identity.userId || identity.botId);
  return { current: () => (known ? identity : undefined), problem: () => (known ? undefined : 'no bot user id or bot id configured') };
}
