/**
 * Opsgenie's who-is-on-call (`GET /v2/schedules/{name}/on-calls?scheduleIdentifierType=name&flat=true`), over
 * plain fetch: the npm opsgenie-sdk has no schedule API. One attempt per call; the caller's policy retries.
 */
import { DeliveryError, classifyStatus, parseRetryAfter, scrubSecrets } from '@alertbus/common';

/** Who is on call for a schedule right now: their Opsgenie usernames (emails). */
export interface OnCallProvider {
  whoIsOnCall(schedule: string): Promise<string[]>;
}

export interface OpsgenieOnCallOptions {
  /** e.g. https://api.opsgenie.com (EU: https://api.eu.opsgenie.com), no trailing slash. */
  apiUrl: string;
  apiKey: string;
  timeoutMs?: number;
}

interface OnCallAnswer {
  data?: { onCallRecipients?: unknown };
  message?: unknown;
}

function failure(status: number, body: OnCallAnswer | undefined, header: (name: string) => string | null, apiKey: string): DeliveryError {
  const reason = typeof body?.message === 'string' ? ` ${body.message}` : '';
  const message = scrubSecrets(`Opsgenie who-is-on-call: HTTP ${status}${reason}`, [apiKey]);
  if (classifyStatus(status) !== 'retry') return new DeliveryError(message, true, status);
  // Opsgenie documents no Retry-After; on a 429 the length of its throttle window is the hint.
  const period = Number(header('x-ratelimit-period-in-sec'));
  const retryAfterMs =
    parseRetryAfter(header('retry-after'), Date.now()) ?? (status === 429 && period > 0 ? period * 1000 : undefined);
  return new DeliveryError(message, false, status, retryAfterMs);
}

export function opsgenieOnCall(opts: OpsgenieOnCallOptions): OnCallProvider {
  const { apiUrl, apiKey } = opts;
  return {
    async whoIsOnCall(schedule: string): Promise<string[]> {
      const url = `${apiUrl}/v2/schedules/${encodeURIComponent(schedule)}/on-calls?scheduleIdentifierType=name&flat=true`;
      let res: Response;
      let body: OnCallAnswer | undefined;
      try {
        res = await fetch(url, {
          headers: { authorization: `GenieKey ${apiKey}`, accept: 'application/json', 'user-agent': 'alertbus-slack-sink' },
          signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
        });
        body = (await res.json().catch(() => undefined)) as OnCallAnswer | undefined;
      } catch (err) {
        const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
        const detail = e.cause?.code ?? (e.name === 'TimeoutError' ? 'timeout' : (e.cause?.message ?? e.message));
        throw new DeliveryError(scrubSecrets(`Opsgenie who-is-on-call: network error ${detail}`, [apiKey]), false);
      }
      if (!res.ok) throw failure(res.status, body, (name) => res.headers.get(name), apiKey);
      const recipients = body?.data?.onCallRecipients;
      if (!Array.isArray(recipients)) throw new DeliveryError('Opsgenie who-is-on-call: answer without data.onCallRecipients', false, res.status);
      return [...new Set(recipients.filter((r): r is string => typeof r === 'string' && r !== ''))];
    },
  };
}
