/**
 * Answers slash commands at their response_url: the router's text as it is, or what only the sink can find out
 * when the answer is sent (who is on call, the open incidents, the silences — read from the history API).
 * Everything read from elsewhere is escaped: a title or a comment can never ping or link.
 */
import { classifyStatus, DeliveryError, parseRetryAfter, type Logger } from '@alertbus/common';
import type { HistoryClient, Json } from '@alertbus/history-client';
import { responseUrlHost, responseUrlOrigins, responseUrlProblem, type ResponseUrlOrigins } from '@alertbus/normalise';
import { GivenUpError, type DeliveryOutcome } from '@alertbus/sink-runtime';
import type { Envelope } from '@alertbus/schemas';
import { lookUpOnCall, DEFAULT_ONCALL_LOOKUP_ATTEMPTS } from './oncall/lookup';
import type { OnCallResolver } from './oncall/resolver';
import { clipMrkdwn, clipText, escapeMrkdwn, onCallReplyText } from './oncall/texts';
import type { ClientSource } from './team-clients';
import { readBounded } from './bounded-read';
import { COMMAND_EVENT_TYPE, type CommandMetadata } from './wire';

export type SlashAnswerCommand = Envelope<'AnswerSlashCommand'>;

/** Lines of a list answer; the rest is counted, not shown (an ephemeral message is no report). */
export const LIST_MAX = 15;
/** Slack cuts a message's text at 40 000 characters; answers stay far below. */
const TEXT_MAX = 3_000;
/** Slack takes a response_url's answers for 30 minutes after the command; an answer is worth trying only that long. */
export const RESPONSE_URL_LIFETIME_MS = 30 * 60_000;

/**
 * What Slack's answer to a response_url post says about the URL itself: used up (5 answers) or expired (30 minutes),
 * so no later try can deliver there. Undefined: something else.
 */
export function responseUrlRefusal(status: number, body: string): 'response-url-expired' | 'response-url-used' | undefined {
  if (/\bused_url\b/.test(body)) return 'response-url-used';
  if (/\bexpired_url\b/.test(body) || status === 404 || status === 410) return 'response-url-expired';
  return undefined;
}

/** Slack's answers at a response_url are bare codes: `ok`, `no_service`, `expired_url`, `used_url`, `invalid_payload`. */
const SLACK_ANSWER = /^[a-z][a-z0-9_]{0,63}$/;

/** The parts of a response_url that are its secret, as a server might repeat them: whole, its path, encoded, its long segments. */
function responseUrlParts(url: string): string[] {
  let path = '';
  try {
    path = new URL(url).pathname;
  } catch {
    // Not a URL: only the text itself can be repeated.
  }
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const segments = path.split('/').filter((s) => s.length >= 8);
  const parts = [url, path, decode(path), encodeURIComponent(decode(path)), ...segments, ...segments.map(decode)];
  return [...new Set(parts.filter((p) => p.length >= 8))].sort((a, b) => b.length - a.length);
}

/** A text with every part of the response_url in it replaced, for an error that is recorded and logged. */
export function withoutResponseUrl(text: string, url: string): string {
  return responseUrlParts(url).reduce((t, part) => t.split(part).join('[response_url]'), text);
}

/**
 * What of an answer to a response_url post is kept in the error (the DeliveryFailed record, the ledger, the log): a
 * Slack code as it is, anything else by its length alone. A server that is not Slack (a proxy's page, a web
 * framework's 404) may repeat the request's path, and a response_url's path is the credential that posts as the app.
 */
export function responseUrlAnswerShown(body: string, url: string): string {
  const answer = body.trim();
  if (answer === '') return '';
  if (SLACK_ANSWER.test(answer) && withoutResponseUrl(answer, url) === answer) return answer;
  return `(an answer of ${answer.length} characters, not kept: it may repeat the response_url)`;
}

/** The workspace a response_url belongs to (https://hooks.slack.com/commands/T…/…), for a command that names none. */
export function teamOfResponseUrl(url: string): string | undefined {
  return /^https:\/\/hooks\.slack\.com\/(?:commands|actions)\/([TE][A-Z0-9]+)\//.exec(url)?.[1];
}

export interface SlashAnswersDeps {
  clients?: ClientSource;
  resolver?: OnCallResolver;
  /** The history API (HISTORY_URL), for `incidents` and `silences`. */
  history?: Pick<HistoryClient, 'get'>;
  log: Logger;
  timeoutMs: number;
  /** From this attempt on, a failing look-up is answered instead of retried (default 4). */
  onCallLookupAttempts?: number;
  /** How long after the command its answer is still tried (default RESPONSE_URL_LIFETIME_MS; tests shorten it). */
  responseUrlLifetimeMs?: number;
  /** Where a response_url may point (responseUrlOrigins(SLACK_API_URL)); default Slack's hosts alone. */
  responseUrlOrigins?: ResponseUrlOrigins;
  now?: () => number;
}

const SLACK_ONLY = responseUrlOrigins();

/**
 * Why the command's response_url must not be posted to (undefined: it may), logged with its host alone. Checked in the
 * sink whatever ingest did, so a record already on Kafka with another host is answered through the Web API instead.
 */
export function foreignResponseUrl(
  deps: { responseUrlOrigins?: ResponseUrlOrigins; log: Logger },
  commandId: string,
  url: string,
  instead: string,
): DeliveryError | undefined {
  const problem = responseUrlProblem(url, deps.responseUrlOrigins ?? SLACK_ONLY);
  if (problem === undefined) return undefined;
  deps.log.warn({ commandId, responseUrlHost: responseUrlHost(url), problem }, `response_url not posted to: ${instead}`);
  return new DeliveryError(problem, true);
}

/** Cut before escaping (as code points: an emoji is never split), so the cut never falls inside an entity. */
const code = (text: string) => `\`${escapeMrkdwn(clipText(text, 200)).replace(/`/g, "'")}\``;
const clip = clipMrkdwn;
const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;

/**
 * A person known to be a Slack user as a mention in a private answer (shown as the name, notifying nobody), as the id
 * in a public one: `incidents --public` notified everyone who had acknowledged one of the listed incidents. Anyone
 * else (a pager's username, a token name) as escaped text, whatever it looks like: a pager user called `U0CEO1234`
 * is no Slack user.
 */
const who = (id: string | undefined, shownOtherwise: string, publicAnswer: boolean) => {
  if (id === undefined || !SLACK_USER_ID.test(id)) return escapeMrkdwn(clipText(shownOtherwise, 100));
  return publicAnswer ? `\`${id}\`` : `<@${id}>`;
};

/**
 * The Slack user who acknowledged the incident, when the history says it was in Slack: acknowledged_in null (a pager's
 * acknowledgement names the pager, and its acknowledged_by is the pager's username). A history without the field
 * says nothing, so names no Slack user.
 */
function acknowledgedInSlackBy(r: Json): string | undefined {
  if (r.acknowledged_in !== null || typeof r.acknowledged_by !== 'string') return undefined;
  return r.acknowledged_by.startsWith('slack:') ? r.acknowledged_by.slice(6) : r.acknowledged_by;
}

function acknowledgedBy(r: Json, publicAnswer: boolean): string {
  const pager = typeof r.acknowledged_in === 'string' ? ` in ${escapeMrkdwn(clipText(r.acknowledged_in, 20))}` : '';
  return `${who(acknowledgedInSlackBy(r), String(r.acknowledged_by ?? 'someone'), publicAnswer)}${pager}`;
}

/** A silence made in Slack says so (`slack:U…`, slash-decide); any other created_by is a token's name. */
const createdBy = (by: string, publicAnswer: boolean) => who(by.startsWith('slack:') ? by.slice(6) : undefined, by, publicAnswer);

/** `mine`: acknowledged in Slack by who asks, or asked for in Slack by them (never a pager user of the same name). */
export function isRequesters(r: Json, requester: string): boolean {
  return acknowledgedInSlackBy(r) === requester || (r.source === 'slack' && (r.labels as Record<string, string> | undefined)?.user === requester);
}

function listed(title: string, lines: string[], empty: string): string {
  if (lines.length === 0) return empty;
  const shown = lines.slice(0, LIST_MAX);
  const more = lines.length > shown.length ? `\n…and ${lines.length - shown.length} more (the history page lists them all).` : '';
  return clip(`${title}\n${shown.join('\n')}${more}`, TEXT_MAX);
}

export function incidentsText(rows: Json[], filter: 'open' | 'mine', publicAnswer = false): string {
  const lines = rows.map((r) => {
    const status = r.status === 'acknowledged' ? `acknowledged by ${acknowledgedBy(r, publicAnswer)}` : 'open';
    return `• ${escapeMrkdwn(clip(String(r.title), 120))} — ${code(String(r.alias))} · ${escapeMrkdwn(String(r.severity))} · ${status} · since ${escapeMrkdwn(String(r.opened_at))}`;
  });
  return listed(
    filter === 'mine' ? `Incidents of yours (${rows.length}):` : `Open incidents (${rows.length}):`,
    lines,
    filter === 'mine' ? 'No open incident is yours (acknowledged by you, or asked for by you).' : 'No open incidents.',
  );
}

export function silencesText(rows: Json[], publicAnswer = false): string {
  const lines = rows.map((s) => {
    const matchers = (s.matchers as string[]).map(code).join(' ') || '(every alert)';
    const when = s.state === 'pending' ? `from ${escapeMrkdwn(String(s.starts_at))}` : 'now';
    return `• ${code(String(s.silence_id))} ${matchers} ${when} until ${escapeMrkdwn(String(s.ends_at))} — ${escapeMrkdwn(clip(String(s.comment), 200))} (${createdBy(String(s.created_by), publicAnswer)})`;
  });
  return listed(`Silences (${rows.length}):`, lines, 'No active or pending silences.');
}

export class SlashAnswers {
  constructor(private readonly deps: SlashAnswersDeps) {}

  /**
   * Answers at the response_url; while that cannot be reached, through the Web API instead (in the command's channel,
   * else in a direct message). Tried only while the response_url lives (30 minutes from the command, which ingest
   * stamped when Slack sent it): a later answer is given up, so one that cannot go out never holds back its incident's
   * Slack updates for longer than that.
   */
  async execute(command: SlashAnswerCommand, attempt: number): Promise<DeliveryOutcome> {
    this.giveUpIfExpired(command, 0);
    try {
      const { text, outcome } = await this.compose(command, attempt);
      const foreign = foreignResponseUrl(this.deps, command.id, command.data.responseUrl, 'the slash command is answered through the Web API');
      if (foreign) {
        // Never posted there, whatever happens next: without a Web API client for the workspace it is given up, not
        // dead-lettered (a redrive could not deliver it either).
        await this.postViaWebApi(command, text, new GivenUpError('response-url-not-slack', foreign.message));
        return this.outcome(command, outcome);
      }
      try {
        await this.post(command, text);
      } catch (err) {
        if (!(err instanceof DeliveryError) || err.permanent || err.httpStatus === 429) throw err;
        // Unreachable (an egress proxy letting only slack.com through), no answer, or a 5xx: the Web API, which every
        // other post takes. A response_url post that got no answer may have arrived: the person may then read the
        // answer twice, which is better than not at all.
        await this.postViaWebApi(command, text, err);
      }
      return this.outcome(command, outcome);
    } catch (err) {
      // A Retry-After that ends after the response_url does: waiting for it would hold the partition for nothing.
      if (err instanceof DeliveryError && !err.permanent && err.retryAfterMs !== undefined) this.giveUpIfExpired(command, err.retryAfterMs, err.message);
      throw err;
    }
  }

  /** Throws GivenUpError when the response_url will have expired `inMs` from now (Slack's 30 minutes from the command). */
  private giveUpIfExpired(command: SlashAnswerCommand, inMs: number, why?: string): void {
    const issuedAt = Date.parse(command.occurredAt);
    const lifetimeMs = this.deps.responseUrlLifetimeMs ?? RESPONSE_URL_LIFETIME_MS;
    const now = this.deps.now?.() ?? Date.now();
    if (Number.isFinite(issuedAt) && now + inMs - issuedAt >= lifetimeMs) {
      const minutes = lifetimeMs >= 60_000 ? `${Math.round(lifetimeMs / 60_000)} minutes` : `${Math.round(lifetimeMs / 1000)} s`;
      throw new GivenUpError(
        'response-url-expired',
        `the slash command was given at ${command.occurredAt}, and its response_url takes answers for ${minutes} only${why ? ` (${why}, asked to wait ${Math.ceil(inMs / 1000)} s)` : ''}`,
      );
    }
  }

  /**
   * The answer where the command was typed, as the response_url would have shown it: ephemeral to who asked, or an
   * `in_channel` answer as a message there. Where the app cannot write (a private channel or a DM it is not in, who
   * asked has left it) or on an older command that names no channel, as a message in the app's direct conversation
   * with who asked, so at least they read it.
   */
  private async postViaWebApi(command: SlashAnswerCommand, text: string, unreachable: DeliveryError): Promise<void> {
    const team = await this.deps.clients?.forTeam(command.data.teamId ?? teamOfResponseUrl(command.data.responseUrl));
    if (!team) throw unreachable;
    const { channel, requester, responseType } = command.data;
    const metadata: CommandMetadata = { event_type: COMMAND_EVENT_TYPE, event_payload: { command_id: command.id, ...(command.data.incidentId ? { incident_id: command.data.incidentId } : {}) } };
    let refusedThere: DeliveryError | undefined;
    if (channel) {
      try {
        if (responseType === 'in_channel') await team.client.postMessage({ channel, text, metadata, unfurl_links: false, unfurl_media: false });
        else await team.client.postEphemeral({ channel, user: requester, text });
        this.deps.log.info({ commandId: command.id, channel, error: unreachable.message }, 'slash command answered in its channel through the Web API: its response_url could not be reached');
        return;
      } catch (err) {
        // Slack down or limiting: the direct message would meet the same, and the channel is where the answer belongs.
        if (!(err instanceof DeliveryError)) throw err;
        if (!err.permanent) throw new DeliveryError(`${unreachable.message}; the Web API: ${err.message}`, false, err.httpStatus, err.retryAfterMs);
        refusedThere = err;
      }
    }
    try {
      await team.client.postMessage({ channel: requester, text, metadata, unfurl_links: false, unfurl_media: false });
    } catch (err) {
      if (!(err instanceof DeliveryError)) throw err;
      const message = `${unreachable.message}; the Web API: ${refusedThere ? `in ${channel}: ${refusedThere.message}; ` : ''}${err.message}`;
      // Slack refuses this answer for good (the user is gone, the app may not write to them): nothing later changes it.
      if (err.permanent) throw new GivenUpError('requester-unreachable', message, err.httpStatus);
      throw new DeliveryError(message, false, err.httpStatus, err.retryAfterMs);
    }
    this.deps.log.info(
      { commandId: command.id, error: unreachable.message, ...(refusedThere ? { channel, channelError: refusedThere.message } : {}) },
      'slash command answered in a direct message through the Web API: its response_url could not be reached',
    );
  }

  dryRun(command: SlashAnswerCommand): DeliveryOutcome {
    const a = command.data.answer;
    const text = a.kind === 'text' ? a.text : `(${a.kind} answer, looked up when sent)`;
    return { ...this.outcome(command), data: { ...this.outcome(command).data, request: { method: 'POST response_url', body: { response_type: command.data.responseType, text } } } };
  }

  private outcome(command: SlashAnswerCommand, outcome?: string): DeliveryOutcome {
    return {
      type: 'SlashCommandAnswered',
      data: { responseType: command.data.responseType, kind: command.data.answer.kind, ...(outcome ? { outcome } : {}) },
    };
  }

  private async compose(command: SlashAnswerCommand, attempt: number): Promise<{ text: string; outcome?: string }> {
    const a = command.data.answer;
    switch (a.kind) {
      case 'text':
        return { text: a.text };
      case 'oncall': {
        const team = await this.deps.clients?.forTeam(command.data.teamId);
        if (!team) throw new DeliveryError('no Slack token configured to look up the on-call people with', true);
        const r = await lookUpOnCall(this.deps, a.schedule, command.id, attempt, team);
        return { text: onCallReplyText({ requester: command.data.requester }, r), outcome: r.outcome };
      }
      case 'incidents':
        return { text: await this.fromHistory(command, attempt, async (h) => incidentsText(await this.incidents(h, a.filter, command.data.requester), a.filter, command.data.responseType === 'in_channel')) };
      case 'silences':
        return {
          text: await this.fromHistory(command, attempt, async (h) => {
            const [active, pending] = await Promise.all(['active', 'pending'].map((state) => h.get('/api/silences', { state, limit: 100 })));
            return silencesText([...(active!.silences as Json[]), ...(pending!.silences as Json[])], command.data.responseType === 'in_channel');
          }),
        };
    }
  }

  /** Open and acknowledged; `mine`: those acknowledged by, or asked for in Slack by, who asks. */
  private async incidents(h: Pick<HistoryClient, 'get'>, filter: 'open' | 'mine', requester: string): Promise<Json[]> {
    const pages = await Promise.all(['open', 'acknowledged'].map((status) => h.get('/api/incidents', { status, limit: 100 })));
    const rows = pages.flatMap((p) => p.incidents as Json[]);
    return (filter === 'mine' ? rows.filter((r) => isRequesters(r, requester)) : rows).sort((x, y) => String(y.opened_at).localeCompare(String(x.opened_at)));
  }

  /** A read of the history API; after the last attempt (or a refusal no retry changes) the person is told why instead. */
  private async fromHistory(command: SlashAnswerCommand, attempt: number, read: (h: Pick<HistoryClient, 'get'>) => Promise<string>): Promise<string> {
    const h = this.deps.history;
    if (!h) return 'I cannot read the incident history: HISTORY_URL is not configured for the slack-sink.';
    try {
      return await read(h);
    } catch (err) {
      const status = (err as { status?: number }).status ?? 0;
      const permanent = status !== 0 && classifyStatus(status) === 'permanent';
      if (!permanent && attempt < (this.deps.onCallLookupAttempts ?? DEFAULT_ONCALL_LOOKUP_ATTEMPTS)) {
        throw new DeliveryError(`history API: ${(err as Error).message}`, false, status || undefined);
      }
      this.deps.log.warn({ commandId: command.id, error: (err as Error).message }, 'history read for a slash command failed; saying so');
      return `I could not read the incident history: ${escapeMrkdwn(clip((err as Error).message, 300))}`;
    }
  }

  private async post(command: SlashAnswerCommand, text: string): Promise<void> {
    const { responseUrl, responseType } = command.data;
    await postToResponseUrl(responseUrl, { response_type: responseType, text }, this.deps.timeoutMs);
  }
}

/**
 * One answer posted to a response_url (a slash command's or a click's). Throws GivenUpError when the URL is used up or
 * expired (no later try can deliver there, and the record is not bad), else a DeliveryError that says whether to retry.
 */
export async function postToResponseUrl(url: string, body: Record<string, unknown>, timeoutMs: number): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (err) {
    throw new DeliveryError(`response_url: ${withoutResponseUrl((err as Error).message, url)}`, false);
  }
  // Only the first 200 characters are kept: the rest of an answer is not read (a response_url's host is Slack's, or not).
  const said = (await readBounded(res, 800).catch(() => '')).slice(0, 200);
  const cls = classifyStatus(res.status);
  if (cls === 'ok') return;
  const refusal = cls === 'permanent' ? responseUrlRefusal(res.status, said) : undefined;
  const answer = responseUrlAnswerShown(said, url);
  if (refusal) throw new GivenUpError(refusal, `response_url answered ${res.status} ${answer}`.trim(), res.status);
  throw new DeliveryError(`response_url answered ${res.status} ${answer}`.trim(), cls === 'permanent', res.status, parseRetryAfter(res.headers.get('retry-after'), Date.now()));
}
