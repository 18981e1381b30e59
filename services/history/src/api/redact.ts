/**
 * What a reader of the API may see of the events' data. Raw payloads, Slack response URLs and trigger ids are
 * for admins only; credentials (Slack's verification token, signatures, keys, passwords) are for nobody. Both
 * are found by key at any depth, and credentials inside text by their shape.
 */
import { mayHoldCredentials, redactCredentials } from '@alertbus/common';

export const REDACTED = '[redacted]';
export const ADMIN_ONLY = '[redacted: admin only]';

export interface Reader {
  admin: boolean;
}

/** Keys compared without case, `_` or `-`: response_url, responseUrl and Response-URL are one key. */
const norm = (key: string) => key.toLowerCase().replace(/[^a-z0-9]/g, '');

const ADMIN_ONLY_KEYS = new Set(['raw', 'responseurl', 'responseurls', 'triggerid']);
const CREDENTIAL_KEYS = new Set(['authorization', 'proxyauthorization', 'cookie', 'setcookie', 'dsn', 'pass']);
const CREDENTIAL_SUFFIXES = [
  'token', 'secret', 'password', 'passwd', 'apikey', 'signature', 'geniekey',
  'privatekey', 'accesskey', 'secretkey', 'routingkey', 'integrationkey', 'credential', 'credentials',
];

/** `Basic <base64 of user:password>`, as an Authorization header written into text. */
const BASIC_AUTH = /(\bBasic\s+)[A-Za-z0-9+/=]{8,}/gi;

/** Slack's response URLs (and incoming webhooks) post to a channel without any other credential. */
const SLACK_HOOK_URL = /https?:\/\/hooks\.slack(?:-gov)?\.com\/[^\s"'<>|]*/gi;

type KeyKind = 'credential' | 'admin-only' | 'plain';

/** Keys repeat across events (labels, Slack's fields): each spelling is classified once, in a bounded cache. */
const kinds = new Map<string, KeyKind>();

function kindOf(key: string): KeyKind {
  let kind = kinds.get(key);
  if (kind === undefined) {
    const k = norm(key);
    kind = CREDENTIAL_KEYS.has(k) || CREDENTIAL_SUFFIXES.some((s) => k.endsWith(s)) ? 'credential' : ADMIN_ONLY_KEYS.has(k) ? 'admin-only' : 'plain';
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

/**
 * A URL in text, of any scheme (https, postgres, redis, amqp…), up to where a URL cannot go on (bounded, so a long one
 * is taken in pieces, never backtracked over).
 */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]{0,31}:\/\/[^\s"'<>]{1,4096}/gi;
/** The user info of a URL (`user:password@`), which may be all the credential a webhook or a database needs. */
const URL_USERINFO = /^([a-z][a-z0-9+.-]{0,31}:\/\/)[^/?#@]{1,1024}@/i;
/** A query parameter, its name bounded. */
const QUERY_PARAM = /([?&])([^=&#]{1,100})=([^&#]*)/g;
/** Query parameters that carry a credential besides the key names above (`?key=…`, `?sig=…`, `?code=…`). */
const CREDENTIAL_PARAMS = new Set(['key', 'sig', 'code', 'auth', 'pass', 'pwd', 'credential', 'credentials']);

/** A URL's credentials hidden: its user info and the values of query parameters named as credentials. */
function redactUrl(url: string): string {
  const bare = url.replace(URL_USERINFO, `$1${REDACTED}@`);
  if (!bare.includes('?')) return bare;
  return bare.replace(QUERY_PARAM, (whole, sep: string, name: string) =>
    kindOf(name) === 'credential' || CREDENTIAL_PARAMS.has(norm(name)) ? `${sep}${name}=${REDACTED}` : whole,
  );
}

function redactText(text: string, reader: Reader): string {
  let out = text;
  // Webhook URLs (a rule's `commands:` webhook, a link) may carry their credential in the URL itself: first, so a URL's
  // query parameters are redacted one by one, not taken whole as a `token=` value.
  if (out.includes('://') && (out.includes('@') || out.includes('?'))) out = out.replace(URL_IN_TEXT, redactUrl);
  // A cheap first look (the one the router takes too): most text holds nothing to redact.
  if (mayHoldCredentials(out)) {
    out = redactCredentials(out, { slackHookUrls: false }).replace(BASIC_AUTH, `$1${REDACTED}`);
    if (!reader.admin) out = out.replace(SLACK_HOOK_URL, ADMIN_ONLY);
  }
  return out;
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
