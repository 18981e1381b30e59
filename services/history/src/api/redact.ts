/**
 * What a reader of the API may see of the events' data. Raw payloads, Slack response URLs and trigger ids are
 * for admins only; credentials (Slack's verification token, signatures, keys, passwords) are for nobody. Both
 * are found by key at any depth, and credentials inside text by their shape.
 */
import { isCredentialKey, normKey, redactCredentialsIfAny } from '@alertbus/common';

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

function redactText(text: string, reader: Reader): string {
  // The text function the router's Slack messages and pages use too (URLs' credentials, shapes, `Basic …`), with a
  // cheap first look; Slack's hook URLs are left for admins to see.
  const out = redactCredentialsIfAny(text, { slackHookUrls: false });
  return reader.admin || !SLACK_HOST.test(out) ? out : out.replace(SLACK_HOOK_URL, ADMIN_ONLY);
}

/** JSON.parse may give an object an own `__proto__` key; copy it as a key, not as a prototype. */
function setOwn(target: Record<string, unknown> | unknown[], key: string | number, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else (target as Record<string | number, unknown>)[key] = value;
}

/**
 * A redacted copy of a JSON value. Iterative, so no nesting depth (a sender chooses it) can overflow the stack;
 * the input is not changed.
 */
export function redact(value: unknown, reader: Reader): unknown {
  const holder: Record<string, unknown> = {};
  const work: Array<[unknown, Record<string, unknown> | unknown[], string | number]> = [[value, holder, 'value']];
  while (work.length > 0) {
    const [src, target, key] = work.pop()!;
    if (typeof src === 'string') {
      setOwn(target, key, redactText(src, reader));
    } else if (Array.isArray(src)) {
      const copy = new Array<unknown>(src.length);
      setOwn(target, key, copy);
      for (let i = 0; i < src.length; i++) work.push([src[i], copy, i]);
    } else if (src !== null && typeof src === 'object') {
      const copy: Record<string, unknown> = {};
      setOwn(target, key, copy);
      for (const [k, v] of Object.entries(src)) {
        const hidden = verdict(k, reader);
        setOwn(copy, k, hidden); // in the source's key order; a value filled in later keeps its place
        if (hidden === null) work.push([v, copy, k]);
      }
    } else {
      setOwn(target, key, src);
    }
  }
  return holder.value;
}
