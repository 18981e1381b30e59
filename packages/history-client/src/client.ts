/**
 * A small client of the history API for the CLI and for audits: plain fetch, errors carry the API's message.
 * The response shapes are the API's own (snake_case), typed loosely: the API's schemas are the contract.
 * Every call carries ALERTBUS_TOKEN (a token from the service's HISTORY_API_TOKENS) when it is set.
 */
import { quotableUrl, scrubTokenShapes } from '@alertbus/common';
import type { ProjectedEvent } from '@alertbus/projection';

export const DEFAULT_HISTORY_URL = 'http://127.0.0.1:8081';

/** The largest page GET /api/silences gives. */
const SILENCE_PAGE = 1000;

/**
 * Why a base URL cannot be used, or undefined: fetch refuses a URL with a user and password, and its error (which
 * quotes the whole URL, password and all) blamed reachability.
 */
export function credentialsInUrl(url: string, variable: string, tokenVariable: string): string | undefined {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url)
    ? `${variable} (${quotableUrl(url)}) must not hold a user and password: give the token in ${tokenVariable}`
    : undefined;
}

/**
 * Why a token cannot be sent, or undefined: a header cannot carry whitespace or a control character inside it, and
 * fetch's refusal quoted the whole header, token and all, into stderr (and a cron job's mail). Its value is not shown.
 */
export function unsendableToken(token: string, variable: string): string | undefined {
  return /[\s\u0000-\u001f\u007f-\u00a0]|[^\u0000-\u00ff]/.test(token)
    ? `${variable} holds whitespace, a control character or a character outside Latin-1 inside it: a token has none (value not shown)`
    : undefined;
}

/** HISTORY_URL, else the default local address. */
export function historyUrl(explicit?: string, env: Record<string, string | undefined> = process.env): string {
  return (explicit || env.HISTORY_URL || DEFAULT_HISTORY_URL).replace(/\/+$/, '');
}

export class HistoryApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export type Json = Record<string, any>;

/** Where a client's history URL and token are set, named in its errors: the CLI's flags, or a service's settings. */
export interface HistorySettingNames {
  url: string;
  token: string;
}

const CLI_SETTINGS: HistorySettingNames = { url: '--url or HISTORY_URL', token: 'ALERTBUS_TOKEN' };

/** What to do about a 401 or 403, added to the API's own message. */
function authHint(status: number, names: HistorySettingNames): string {
  if (status === 401) return ` (set ${names.token} to a token from the history service's HISTORY_API_TOKENS)`;
  if (status === 403) return ` (${names.token}'s role is too low for this; ask for a token with a higher role)`;
  return '';
}

export class HistoryClient {
  private readonly token: string | undefined;

  constructor(
    readonly baseUrl: string,
    token: string | undefined = process.env.ALERTBUS_TOKEN,
    private readonly names: HistorySettingNames = CLI_SETTINGS,
  ) {
    this.token = token?.trim() || undefined;
  }

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Json> {
    const refused = credentialsInUrl(this.baseUrl, `the history API URL (${this.names.url})`, this.names.token);
    if (refused) throw new HistoryApiError(refused, 0);
    const unsendable = this.token === undefined ? undefined : unsendableToken(this.token, this.names.token);
    if (unsendable) throw new HistoryApiError(unsendable, 0);
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          ...headers,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.token === undefined ? {} : { authorization: `Bearer ${this.token}` }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = scrubTokenShapes(String(cause?.code ?? cause?.message ?? (err as Error).message));
      throw new HistoryApiError(`cannot reach the history API at ${quotableUrl(this.baseUrl)} (${why}); set ${this.names.url}`, 0);
    }
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: reported below */
    }
    if (!res.ok) {
      const message = (parsed as Json | null)?.message ?? text.slice(0, 200);
      throw new HistoryApiError(`${method} ${path}: ${res.status} ${message}${authHint(res.status, this.names)}`, res.status);
    }
    return (parsed ?? {}) as Json;
  }

  get(path: string, query: Record<string, string | number | undefined> = {}): Promise<Json> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
    const qs = q.toString();
    return this.request('GET', qs ? `${path}?${qs}` : path);
  }

  /** Every projected event of an alias, all pages. */
  async aliasTimeline(alias: string): Promise<ProjectedEvent[]> {
    const out: ProjectedEvent[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.get('/api/timeline', { alias, limit: 5000, cursor });
      out.push(...(page.events as ProjectedEvent[]));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return out;
  }

  /**
   * The silences in a state, newest first, following every page (the API's pages hold at most 1000), or the newest
   * `max`: the answer has the API's shape, `next_cursor` where it stopped (null when that was all of them).
   */
  async silences(state: string, max = Number.POSITIVE_INFINITY): Promise<Json> {
    const silences: Json[] = [];
    let cursor: string | undefined;
    let page: Json;
    do {
      page = await this.get('/api/silences', { state, limit: Math.min(SILENCE_PAGE, max - silences.length), cursor });
      silences.push(...(page.silences as Json[]));
      cursor = page.next_cursor ?? undefined;
    } while (cursor && silences.length < max);
    return { ...page, silences, truncated: cursor !== undefined, next_cursor: cursor ?? null };
  }

  /** The projection's stored offsets of one consumer, keyed `topic\u0000partition`. */
  async offsets(consumer: string): Promise<Map<string, string>> {
    const { offsets } = await this.get('/api/projection/offsets');
    return new Map(
      (offsets as Array<{ consumer: string; topic: string; partition: number; next_offset: string }>)
        .filter((o) => o.consumer === consumer)
        .map((o) => [`${o.topic}\u0000${o.partition}`, o.next_offset]),
    );
  }
}
