import { ErrorCode } from '@slack/web-api';
import { scrubSecrets } from '@alertbus/common';

/**
 * Why a Web API call failed, in a few words for logs and 503 messages: Slack's own error name for ok:false,
 * the status for an HTTP error, the transport's code (or "timeout") for a request that got no answer.
 */
export function slackFailure(err: unknown, secrets: ReadonlyArray<string | undefined>): string {
  const e = (err ?? {}) as { code?: string; message?: string; statusCode?: number; data?: { error?: unknown }; original?: unknown };
  switch (e.code) {
    case ErrorCode.PlatformError:
      return String(e.data?.error ?? 'ok:false');
    case ErrorCode.HTTPError:
      return `HTTP ${e.statusCode}`;
    case ErrorCode.RateLimitedError:
      return 'HTTP 429';
    case ErrorCode.RequestError: {
      const original = (e.original ?? {}) as { code?: string; message?: string };
      const timedOut = original.code === 'ECONNABORTED' || original.code === 'ETIMEDOUT' || /timeout/i.test(original.message ?? '');
      return scrubSecrets(`request failed: ${timedOut ? 'timeout' : (original.code ?? original.message ?? 'no answer')}`, secrets);
    }
    default:
      return scrubSecrets(e.message ?? String(err), secrets);
  }
}
