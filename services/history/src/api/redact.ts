/**
 * What a reader of the API may see of the events' data. Raw payloads, Slack response URLs and trigger ids are
 * for admins only; credentials (Slack's verification token, signatures, keys, passwords) are for nobody. Both
 * are found by key at any depth, and credentials inside text by their shape.
 */
import { copyJson, isCredentialKey, normKey, redactCredentialsIfAny } from '@alertbus/common';

export const REDACTED = '[redacted]';
export const ADMIN_ONLY = '[redacted: admin only]';

export interface Reader {
  admin: boolean;
}

const ADMIN_ONLY_KEYS = new Set(['raw', 'responseurl', 'responseurls', 'triggerid']);

/** Slack's response URLs (and incoming webhooks) post to a channel without any other credential. */
const SLACK_HOOK_URL = /https?:\/\/hooks\.slack(?:-gov)?\.com\/[^\s"'<>|]*/gi;
const SLACK_HOST = /hooks\.slack/i;

type KeyKind = 'credential' | 'admin-only' | 'plain';

/** Keys repeat across events (labels, Slack's fields): each spelling is classified once, in a bounded cache. */
const kinds = new Map<string, KeyKind>();

function kindOf(key: string): KeyKind {
  let kind = kinds.get(key);
  if (kind === undefined) {
    // Credentials by the rule the router's Slack messages and pages read labels with (packages/common).
    kind = isCredentialKey(key) ? 'credential' : ADMIN_ONLY_KEYS.has(normKey(key)) ? 'admin-only' : 'plain';
    if (kinds.size >= 10_000) kinds.clear();
    kinds.set(key, kind);
  }
  return kind;
}

function verdict(key: string, reader: Reader): string | null {
  const kind = kindOf(key);
  if (kind === 'credential') return REDACTED;
  if (kind === 'admin-only' && !reader.admin) return ADMIN_ONLY;
  return null;
}

/** A text as `reader` is shown it: what a free-text search (`q`) may match, so that it never tells a hidden credential. */
export function redactText(text: string, reader: Reader): string {
  // The text function the router's Slack messages and pages use too (URLs' credentials, shapes, `Basic …`), with a
  // cheap first look; Slack's hook URLs are left for admins to see.
  const out = redactCredentialsIfAny(text, { slackHookUrls: false });
  return reader.admin || !SLACK_HOST.test(out) ? out : out.replace(SLACK_HOOK_URL, ADMIN_ONLY);
}

/**
 * A redacted copy of a JSON value: credentials and admin-only fields found by key, credentials in text by their shape.
 * The input is not changed.
 */
export function redact(value: unknown, reader: Reader): unknown {
  return copyJson(value, (text) => redactText(text, reader), (key) => verdict(key, reader));
}
