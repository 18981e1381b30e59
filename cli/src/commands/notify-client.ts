/** The CLI side of POST /notify: where ingest is, how to authenticate, and what its answers mean. */
import { quotableUrl, scrubTokenShapes } from '@alertbus/common';
import { credentialsInUrl, unsendableToken } from '@alertbus/history-client';
import { NOTIFICATION_LEVELS, NOTIFICATION_LIMITS, type NotificationLevel } from '@alertbus/schemas';

export const DEFAULT_INGEST_URL = 'http://127.0.0.1:8080';

export interface NotifyRequest {
  tag: string;
  text: string;
  title?: string;
  level?: NotificationLevel;
  sync?: boolean;
  dedupKey?: string;
}

export type NotifyAnswer =
  | { ok: true; status: number; body: { id?: string; channel?: string; ts?: string; duplicate?: boolean } }
  | { ok: false; message: string };

export function parseLevel(value: string): NotificationLevel {
  if (!(NOTIFICATION_LEVELS as readonly string[]).includes(value)) {
    throw new Error(`--level must be one of ${NOTIFICATION_LEVELS.join(', ')}, got "${value}"`);
  }
  return value as NotificationLevel;
}

/**
 * What `alertbus notify` sends of a long text or title: its beginning (a report's headline comes first), marked as
 * cut, and a warning for each cut for stderr. `alertbus run` keeps the end of its output instead (fitText).
 */
export function fitNotify(text: string, title: string | undefined): { text: string; title?: string; warnings: string[] } {
  const warnings: string[] = [];
  const head = (value: string, max: number, what: string) => {
    const points = Array.from(value);
    if (points.length <= max) return value;
    warnings.push(`the ${what} is ${points.length} characters; its first ${max - 1} are posted (at most ${max})`);
    return `${points.slice(0, max - 1).join('')}…`;
  };
  return {
    text: head(text, NOTIFICATION_LIMITS.text, 'text'),
    ...(title !== undefined ? { title: head(title, NOTIFICATION_LIMITS.title, 'title') } : {}),
    warnings,
  };
}

/** Keeps the end of a long text (where a job's output says what went wrong), within what ingest accepts. */
export function fitText(text: string, max: number = NOTIFICATION_LIMITS.text): string {
  const points = Array.from(text);
  return points.length <= max ? text : `…${points.slice(points.length - max + 1).join('')}`;
}

/** Sends one notification to INGEST_URL with INGEST_TOKEN; never throws, so callers decide what a failure means. */
export async function sendNotification(req: NotifyRequest, env: Record<string, string | undefined> = process.env): Promise<NotifyAnswer> {
  const base = (env.INGEST_URL || DEFAULT_INGEST_URL).replace(/\/+$/, '');
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const token = env.INGEST_TOKEN?.trim();
  if (token) {
    const unsendable = unsendableToken(token, 'INGEST_TOKEN');
    if (unsendable) return { ok: false, message: unsendable };
    headers.authorization = `Bearer ${token}`;
  }
  const body = JSON.stringify({ ...req, text: fitText(req.text), ...(req.title !== undefined ? { title: Array.from(req.title).slice(0, NOTIFICATION_LIMITS.title).join('') } : {}) });
  // A sync request waits for Slack on the server (NOTIFY_SYNC_TIMEOUT); leave it room to answer 504 itself.
  const timeoutMs = req.sync ? 330_000 : 30_000;
  const refused = credentialsInUrl(base, 'INGEST_URL', 'INGEST_TOKEN');
  if (refused) return { ok: false, message: refused };
  let res: Response;
  try {
    res = await fetch(`${base}/notify`, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    return { ok: false, message: `cannot reach ingest at ${quotableUrl(base)}: ${scrubTokenShapes(cause ?? (err as Error).message)}` };
  }
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: the status and the text say it
  }
  if (res.status === 200 || res.status === 202) return { ok: true, status: res.status, body: parsed as { id?: string } };
  const message = typeof parsed.message === 'string' ? parsed.message : text.slice(0, 500) || res.statusText;
  return { ok: false, message: `ingest answered ${res.status}: ${message}` };
}
