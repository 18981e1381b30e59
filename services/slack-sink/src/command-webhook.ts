/**
 * Calls a `commands:` entry's webhook: the request as JSON, signed like Slack signs its own requests (HMAC-SHA256
 * of `v0:{timestamp}:{body}` with COMMAND_WEBHOOK_SECRET), once, within the entry's timeout, with the command's id as
 * its Idempotency-Key. What comes back is what the thread is told: the answer's `text` (escaped, bounded), or why
 * there is none.
 */
import { createHmac } from 'node:crypto';
import { webhookUrlShown } from '@alertbus/common';
import type { CommandWebhookRequest } from '@alertbus/schemas';
import { readBounded } from './bounded-read';
import { clipMrkdwn, escapeMrkdwn } from './oncall/texts';

export const WEBHOOK_SIGNATURE_HEADER = 'x-alertbus-signature';
export const WEBHOOK_TIMESTAMP_HEADER = 'x-alertbus-request-timestamp';
/**
 * The command's envelope id, the same on every attempt: a crash or a Postgres failure between the call and its record
 * makes the sink call again, and a receiver that keeps the keys it has seen then acts once.
 */
export const WEBHOOK_IDEMPOTENCY_HEADER = 'idempotency-key';
/** Longest answer posted in the thread; the rest is cut. */
export const WEBHOOK_ANSWER_MAX = 3000;
/** Most bytes of an answer read. */
const WEBHOOK_BODY_MAX = 64 * 1024;

export type WebhookResult = { outcome: 'answered'; text: string; httpStatus: number } | { outcome: 'failed'; error: string; httpStatus?: number };

/** `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`: a receiver checks it as it would check Slack's. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** The URL as it may be logged and recorded (the delivery event, the timeline): see common's webhookUrlShown. */
export const safeUrl = webhookUrlShown;

export async function callCommandWebhook(
  opts: { url: string; timeoutMs: number; secret: string | undefined; nowMs: number; idempotencyKey: string },
  request: CommandWebhookRequest,
): Promise<WebhookResult> {
  if (!opts.secret) return { outcome: 'failed', error: 'COMMAND_WEBHOOK_SECRET is not set, so the request cannot be signed' };
  const body = JSON.stringify(request);
  const timestamp = String(Math.floor(opts.nowMs / 1000));
  let res: Response;
  try {
    res = await fetch(opts.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [WEBHOOK_TIMESTAMP_HEADER]: timestamp,
        [WEBHOOK_SIGNATURE_HEADER]: webhookSignature(opts.secret, timestamp, body),
        [WEBHOOK_IDEMPOTENCY_HEADER]: opts.idempotencyKey,
      },
      body,
      signal: AbortSignal.timeout(opts.timeoutMs),
      redirect: 'error',
    });
  } catch (err) {
    const e = err as Error;
    const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
    return { outcome: 'failed', error: timedOut ? `the webhook gave no answer within ${opts.timeoutMs / 1000} s` : 'the webhook could not be reached' };
  }
  const raw = await readBounded(res, WEBHOOK_BODY_MAX).catch(() => '');
  if (!res.ok) return { outcome: 'failed', error: `the webhook answered HTTP ${res.status}`, httpStatus: res.status };
  let text: unknown;
  try {
    text = (JSON.parse(raw) as { text?: unknown }).text;
  } catch {
    return { outcome: 'failed', error: "the webhook's answer is not JSON", httpStatus: res.status };
  }
  if (typeof text !== 'string' || text.trim() === '') return { outcome: 'failed', error: 'the webhook\'s answer has no "text"', httpStatus: res.status };
  return { outcome: 'answered', text: clipMrkdwn(escapeMrkdwn(text), WEBHOOK_ANSWER_MAX), httpStatus: res.status };
}

/** What the thread is told when the webhook gave no answer. */
export function webhookFailedText(command: string, error: string): string {
  return `The command \`${escapeMrkdwn(command)}\` failed: ${escapeMrkdwn(error)}.`;
}
