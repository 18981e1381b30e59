import type { FastifyInstance, FastifyRequest } from 'fastify';
import { keepableJson } from '@alertbus/common';
import { jsonErrorWithoutExcerpt } from '@alertbus/schemas';
import type { RequestCleaning } from '@alertbus/normalise';
import { HttpError } from '../http-error';
import { BOUND_THE_GROUP } from './errors';

/** Deeper than any webhook or Slack payload nests (Slack's rich text blocks reach about ten). */
export const MAX_JSON_DEPTH = 64;

/** Whether brackets outside strings nest deeper than `limit`: JSON.stringify recurses, so depth must be bounded. */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** Refuses the keys that poison prototypes once the object is merged somewhere. */
function refusePoisonedKeys(key: string, value: unknown): unknown {
  if (key === '__proto__' || (key === 'constructor' && value !== null && typeof value === 'object' && 'prototype' in value)) {
    throw new SyntaxError(`forbidden property name "${key}"`);
  }
  return value;
}

/**
 * Whether the text could hold a `__proto__` or `constructor` key: written out, or spelt with \u escapes of
 * the underscore and lower-case letters. Go's encoder escapes `<`, `>` and `&` (\u003c…), which cannot.
 */
function mayHoldPoisonedKey(text: string): boolean {
  return text.includes('__proto__') || text.includes('constructor') || /\\u00(?:5[fF]|[67][0-9a-fA-F])/.test(text);
}

/** Parses JSON like JSON.parse, but refuses prototype-poisoning keys and absurd nesting, which no sender needs. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new HttpError(400, 'invalid_json', 'invalid JSON body: the body is empty');
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new HttpError(400, 'invalid_json', `invalid JSON body: nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  try {
    // A reviver makes JSON.parse several times slower; only text that could hold such a key needs it.
    return mayHoldPoisonedKey(text) ? JSON.parse(text, refusePoisonedKeys) : JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, 'invalid_json', `invalid JSON body: ${jsonErrorWithoutExcerpt((err as Error).message, text)}`);
  }
}

const cleanings = new WeakMap<FastifyRequest, RequestCleaning>();

/** What the body parser cleaned in this request (nothing, for a request that had no body parsed). */
export function cleaningOf(req: FastifyRequest): RequestCleaning {
  return cleanings.get(req) ?? { group: 0 };
}

/** Text every part can keep, counted per alert so each event can say what was cleaned in it. */
export function cleanWebhookBody(body: unknown): { body: unknown; cleaning: RequestCleaning } {
  if (body === null || typeof body !== 'object' || Array.isArray(body) || !Array.isArray((body as { alerts?: unknown }).alerts)) {
    const kept = keepableJson(body);
    return { body: kept.value, cleaning: { group: kept.changed } };
  }
  const { alerts, ...group } = body as { alerts: unknown[] } & Record<string, unknown>;
  const keptGroup = keepableJson(group);
  const keptAlerts = alerts.map((a) => keepableJson(a));
  const changed = keptGroup.changed > 0 || keptAlerts.some((a) => a.changed > 0);
  return {
    body: changed ? { ...keptGroup.value, alerts: keptAlerts.map((a) => a.value) } : body,
    cleaning: { group: keptGroup.changed, alerts: keptAlerts.map((a) => a.changed) },
  };
}

/**
 * Whether any string parsed from this JSON text could hold a character keepableText changes. Inside JSON strings
 * control characters come only as the escapes \b, \f, \r or \u (raw ones are not JSON); DEL, C1 and surrogates may
 * also come raw. Without any of them, every string is kept as it is and the walk over the body can be skipped.
 */
export function mayNeedCleaning(text: string): boolean {
  return /\\[bfru]|[\u007F-\u009F\uD800-\uDFFF]/.test(text);
}

/** What cleanWebhookBody answers for a body in which nothing needed cleaning. */
function nothingCleaned(body: unknown): RequestCleaning {
  const alerts = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as { alerts?: unknown }).alerts : undefined;
  return Array.isArray(alerts) ? { group: 0, alerts: alerts.map(() => 0) } : { group: 0 };
}

export interface WebhookBodyLimits {
  /** Most entries `alerts` may have (INGEST_MAX_ALERTS). */
  maxAlerts: number;
}

const USE_JSON = "send JSON with -H 'content-type: application/json'";

/**
 * Webhook bodies are JSON and must say so: a web page can POST `text/plain` or a form to any address
 * without a CORS preflight, but not `application/json`. The parser also caps the number of alerts
 * before anything is validated or normalised, and cleans the text so every part can keep it.
 */
export function acceptJsonBodies(app: FastifyInstance, limits: WebhookBodyLimits): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, text, done) => {
    try {
      const parsed = parseJsonBody(text as string);
      const alerts = (parsed as { alerts?: unknown } | null)?.alerts;
      if (Array.isArray(alerts) && alerts.length > limits.maxAlerts) {
        throw new HttpError(
          413,
          'payload_too_large',
          `the request carries ${alerts.length} alerts, more than the ${limits.maxAlerts} accepted in one request (INGEST_MAX_ALERTS): ` +
            `${BOUND_THE_GROUP} (max_alerts: ${limits.maxAlerts} at most), or raise INGEST_MAX_ALERTS; other senders: send fewer alerts per request`,
        );
      }
      const { body, cleaning } = mayNeedCleaning(text as string) ? cleanWebhookBody(parsed) : { body: parsed, cleaning: nothingCleaned(parsed) };
      cleanings.set(req, cleaning);
      done(null, body);
    } catch (err) {
      done(err as Error);
    }
  });
  // Read (bounded by the body limit) and refused, so the sender gets the answer on a connection still in order.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, _body, done) => {
    const type = req.headers['content-type'];
    const said = type ? `content type "${String(type).split(';')[0]!.trim()}" is not accepted` : 'the request has no content type';
    done(new HttpError(415, 'unsupported_media_type', `${said}: webhooks take JSON only; ${USE_JSON}`));
  });
}
