/**
 * What senders wrote, as Slack and the pager show it: credentials redacted (packages/common/src/credentials.ts), before
 * any escaping or cutting, so both still apply and the limits count what is shown. The facts keep the text as sent.
 */
import { isCredentialKey, mayHoldCredentials, redactCredentialsIfAny } from '@alertbus/common/src/credentials';
import { copyJson } from '@alertbus/common/src/json-copy';
import type { Labels, Link } from '@alertbus/schemas';
import { earlierCut } from './cut-mark';

/**
 * A sender's text without the credentials in it, as the history's API shows it too (redactCredentialsIfAny); ingest's
 * cut mark at its end stays as it is (a value never takes it).
 */
export function withoutCredentials(text: string): string {
  if (!mayHoldCredentials(text)) return text;
  const { head } = earlierCut(text);
  return redactCredentialsIfAny(head) + text.slice(head.length);
}

/**
 * Labels as shown: under a key that is a credential by the rule the history reads keys with (`db_password`,
 * `routing_key`, `authorization`) the whole value is redacted, whatever it looks like; other values (`secret_name`,
 * `token_type`) as text. The same object when nothing is redacted, as for nearly every alert.
 */
export function labelsWithoutCredentials(labels: Labels): Labels {
  let out: Record<string, string> | undefined;
  for (const k in labels) {
    if (!Object.hasOwn(labels, k)) continue;
    const v = labels[k]!;
    const shown = isCredentialKey(k) ? '[redacted]' : withoutCredentials(v);
    if (shown === v) continue;
    out ??= { ...labels };
    // A key JSON.parse made an own `__proto__` stays a key, not a prototype.
    Object.defineProperty(out, k, { value: shown, enumerable: true, writable: true, configurable: true });
  }
  return out ?? labels;
}

/** Links as shown: a title or URL may hold a credential too (`https://user:password@…`, `?token=…`). */
export function linksWithoutCredentials(links: readonly Link[]): readonly Link[] {
  let out: Link[] | undefined;
  links.forEach((l, i) => {
    const title = withoutCredentials(l.title);
    const url = withoutCredentials(l.url);
    if (title === l.title && url === l.url) return;
    out ??= [...links];
    out[i] = { title, url };
  });
  return out ?? links;
}

/**
 * A copy of a JSON value (a direct notification's blocks or attachments, built by its sender) with credentials redacted
 * from every string in it. Iterative, so no nesting a sender chooses can overflow the stack.
 */
export function jsonWithoutCredentials<T>(value: T): T {
  return copyJson(value, withoutCredentials) as T;
}
