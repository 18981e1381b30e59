import { createHmac, timingSafeEqual } from 'node:crypto';

/** A signed request whose timestamp is further than this from now is refused as a possible replay. */
export const SLACK_SIGNATURE_TOLERANCE_SECONDS = 300;

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

export interface SignedRequest {
  /** X-Slack-Request-Timestamp (unix seconds). */
  timestamp?: string;
  /** X-Slack-Signature (`v0=<hex>`). */
  signature?: string;
  /** The body exactly as received, before any parsing. */
  rawBody: Buffer;
}

/** `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the signing secret. */
export function slackSignature(secret: string, timestamp: string, rawBody: Buffer): string {
  const mac = createHmac('sha256', secret);
  mac.update(`v0:${timestamp}:`, 'utf8');
  mac.update(rawBody);
  return `v0=${mac.digest('hex')}`;
}

/**
 * Checks Slack's v0 request signature over the raw body, with the timestamp within 5 minutes either way of
 * `nowSeconds` (python-slack-sdk's rule; bolt-js lets future timestamps through) and a constant-time compare.
 */
export function verifySlackSignature(
  secret: string,
  req: SignedRequest,
  nowSeconds: number,
  toleranceSeconds = SLACK_SIGNATURE_TOLERANCE_SECONDS,
): SignatureCheck {
  const { timestamp, signature } = req;
  if (!timestamp || !signature) return { ok: false, reason: 'missing X-Slack-Request-Timestamp or X-Slack-Signature' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'X-Slack-Request-Timestamp is not a unix time in seconds' };
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) {
    return { ok: false, reason: `X-Slack-Request-Timestamp is more than ${toleranceSeconds} s away from now` };
  }
  const expected = Buffer.from(slackSignature(secret, timestamp, req.rawBody), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  // The expected length is public (v0= + 64 hex), so a length mismatch may be answered early.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'X-Slack-Signature does not match' };
  }
  return { ok: true };
}
