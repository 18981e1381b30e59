/**
 * Answers slash commands at their response_url: the router's text as it is, or what only the sink can find out
 * when the answer is sent (who is on call, the open incidents, the silences — read from the history API).
 * Everything read from elsewhere is escaped: a title or a comment can never ping or link.
 */
import { classifyStatus, DeliveryError, parseRetryAfter, type Logger } from '@alertbus/common';
import type { HistoryClient, Json } from '@alertbus/history-client';
import type { DeliveryOutcome } from '@alertbus/sink-runtime';
import type { Envelope } from '@alertbus/schemas';
import { lookUpOnCall, DEFAULT_ONCALL_LOOKUP_ATTEMPTS } from './oncall/lookup';
import type { OnCallResolver } from './oncall/resolver';
import { clipMrkdwn, clipText, escapeMrkdwn, onCallReplyText } from './oncall/texts';
import type { ClientSource } from './team-clients';

export type SlashAnswerCommand = Envelope<'AnswerSlashCommand'>;

/** Lines of a list answer; the rest is counted, not shown (an ephemeral message is no report). */
export const LIST_MAX = 15;
/** Slack cuts a message's text at 40 000 characters; answers stay far below. */
const TEXT_MAX = 3_000;

export interface SlashAnswersDeps {
  clients?: ClientSource;
  resolver?: OnCallResolver;
  /** The history API (HISTORY_URL), for `incidents` and `silences`. */
  history?: Pick<HistoryClient, 'get'>;
  log: Logger;
  timeoutMs: number;
  /** From this attempt on, a failing look-up is answered instead of retried (default 4). */
  onCallLookupAttempts?: number;
}

/** Cut before escaping (as code points: an emoji is never split), so the cut never falls inside an entity. */
const code = (text: string) => `\`${escapeMrkdwn(clipText(text, 200)).replace(/`/g, "'")}\``;
const clip = clipMrkdwn;
/**
 * A Slack user id as a mention in a private answer (shown as the name, notifying nobody), as the id in a public one:
 * `incidents --public` notified everyone who had acknowledged one of the listed incidents. Anything else (a token
 * name) as escaped text.
 */
const who = (by: string, publicAnswer: boolean) => {
  const id = by.startsWith('slack:') ? by.slice(6) : by;
  if (!/^[UW][A-Z0-9]{2,}$/.test(id)) return escapeMrkdwn(by);
  return publicAnswer ? `\`${id}\`` : `<@${id}>`;
};

function listed(title: string, lines: string[], empty: string): string {
  if (lines.length === 0) return empty;
  const shown = lines.slice(0, LIST_MAX);
  const more = lines.length > shown.length ? `\n…and ${lines.length - shown.length} more (the history page lists them all).` : '';
  return clip(`${title}\n${shown.join('\n')}${more}`, TEXT_MAX);
}

export function incidentsText(rows: Json[], filter: 'open' | 'mine', publicAnswer = false): string {
  const lines = rows.map((r) => {
    const status = r.status === 'acknowledged' ? `acknowledged by ${who(String(r.acknowledged_by ?? 'someone'), publicAnswer)}` : 'open';
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
    return `• ${code(String(s.silence_id))} ${matchers} ${when} until ${escapeMrkdwn(String(s.ends_at))} — ${escapeMrkdwn(clip(String(s.comment), 200))} (${who(String(s.created_by), publicAnswer)})`;
  });
  return listed(`Silences (${rows.length}):`, lines, 'No active or pending silences.');
}

export class SlashAnswers {
  constructor(private readonly deps: SlashAnswersDeps) {}

  async execute(command: SlashAnswerCommand, attempt: number): Promise<DeliveryOutcome> {
    const { text, outcome } = await this.compose(command, attempt);
    await this.post(command, text);
    return this.outcome(command, outcome);
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
    const mine = (r: Json) => r.acknowledged_by === requester || (r.source === 'slack' && (r.labels as Record<string, string> | undefined)?.user === requester);
    return (filter === 'mine' ? rows.filter(mine) : rows).sort((x, y) => String(y.opened_at).localeCompare(String(x.opened_at)));
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
    let res: Response;
    try {
      res = await fetch(responseUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ response_type: responseType, text }),
        signal: AbortSignal.timeout(this.deps.timeoutMs),
        redirect: 'error',
      });
    } catch (err) {
      throw new DeliveryError(`response_url: ${(err as Error).message}`, false);
    }
    const body = (await res.text().catch(() => '')).slice(0, 200);
    const cls = classifyStatus(res.status);
    if (cls === 'ok') return;
    // An expired or used-up response_url (404, 410…) will not take the answer later either.
    throw new DeliveryError(`response_url answered ${res.status} ${body}`.trim(), cls === 'permanent', res.status, parseRetryAfter(res.headers.get('retry-after'), Date.now()));
  }
}
