/**
 * The one way alertbus talks to Slack's Web API: @slack/web-api's WebClient, built the same for every
 * caller so none of them waits behind the client's own retries or rate-limit sleeps, and no token reaches a log.
 */
import { LogLevel, WebClient, type Logger as SlackLogger } from '@slack/web-api';
import { scrubSecrets, type Logger } from './logger';

export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';

export interface SlackWebClientOptions {
  token: string;
  /** SLACK_API_URL: Slack's, or a stand-in's (ending in `/api/`). */
  apiUrl: string;
  /** Per call; the caller decides what a slow answer costs. */
  timeoutMs: number;
  log: Logger;
}

/**
 * Forwards a Slack SDK client's own log lines (WebClient, SocketModeClient) to pino at debug level (warn for
 * its errors, and for its warnings when `warnings` says so), scrubbed of the tokens.
 */
export function slackLogger(log: Logger, secrets: string[], warnings: 'debug' | 'warn' = 'debug'): SlackLogger {
  const line = (msg: unknown[]) =>
    scrubSecrets(msg.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' '), secrets);
  // The client logs every request and answer at debug: joined and scrubbed only when debug lines are written.
  const at = (level: 'debug' | 'warn') => (...m: unknown[]) => {
    if (log.isLevelEnabled(level)) log[level](line(m));
  };
  return {
    debug: at('debug'),
    info: at('debug'),
    warn: at(warnings),
    error: at('warn'),
    setLevel: () => undefined,
    getLevel: () => LogLevel.DEBUG,
    setName: () => undefined,
  };
}

/** A WebClient with its retries off and 429s rejected at once: the caller's own policy decides what happens next. */
export function slackWebClient(opts: SlackWebClientOptions): WebClient {
  return new WebClient(opts.token, {
    slackApiUrl: opts.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: opts.timeoutMs,
    logger: slackLogger(opts.log.child({ component: 'slack-web-api' }), [opts.token]),
  });
}
