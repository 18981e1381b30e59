/**
 * The alias of an incident id, asked of the history API, so `/alertbus ack <id>` can be keyed by the alias and
 * reach the partition that holds the incident. Bounded in time: Slack wants its answer within 3 s, and the Kafka write
 * comes after the look-up, so the look-up gets what is left of INGEST_SLACK_TIMEOUT_MS less the write's reserve.
 */
import { NO_SUCH_INCIDENT } from '@alertbus/routing';

export type IncidentAlias = { alias: string } | { problem: string };

export interface IncidentLookup {
  /** timeoutMs: this look-up's bound (see lookupBudgetMs); the lookup's own default when left out. */
  aliasOf(incidentId: string, opts?: { timeoutMs?: number }): Promise<IncidentAlias>;
}

/** Why an incident id is not looked up when ingest has no history API to ask (slash commands and mentions alike). */
export const NO_INCIDENT_LOOKUP = 'incident ids cannot be looked up here (ingest has no HISTORY_URL); use the alias';

/** How long the look-up may take when its caller gives no bound. */
export const INCIDENT_LOOKUP_TIMEOUT_MS = 800;

/**
 * What of INGEST_SLACK_TIMEOUT_MS is kept for the Kafka write after the look-up. A fixed 800 ms for the look-up was
 * too short on a busy machine (the history API answered later, and a person's `resolve <id>` was answered "could not
 * look up") while most of the 2.5 s went unused: the write takes tens of milliseconds.
 */
export const INCIDENT_LOOKUP_WRITE_RESERVE_MS = 800;

/** The look-up's bound: what is left of the ack budget less the write's reserve, and never under 300 ms. */
export function lookupBudgetMs(ackBudgetMs: number, startedAt: number, now = performance.now()): number {
  return Math.max(300, Math.round(ackBudgetMs - (now - startedAt) - INCIDENT_LOOKUP_WRITE_RESERVE_MS));
}

export function historyIncidentLookup(opts: { historyUrl: string; token?: string; timeoutMs?: number }): IncidentLookup {
  const base = opts.historyUrl.replace(/\/+$/, '');
  return {
    async aliasOf(incidentId, call) {
      try {
        const res = await fetch(`${base}/api/incidents/${encodeURIComponent(incidentId)}`, {
          headers: { accept: 'application/json', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
          signal: AbortSignal.timeout(call?.timeoutMs ?? opts.timeoutMs ?? INCIDENT_LOOKUP_TIMEOUT_MS),
        });
        if (res.status === 404) return { problem: NO_SUCH_INCIDENT };
        if (!res.ok) return { problem: `the history API answered ${res.status}` };
        const body = (await res.json()) as { alias?: unknown };
        return typeof body.alias === 'string' && body.alias !== '' ? { alias: body.alias } : { problem: 'the history API sent no alias' };
      } catch (err) {
        const e = err as Error & { cause?: { code?: string } };
        return { problem: `the history API could not be asked (${e.name === 'TimeoutError' ? 'timed out' : (e.cause?.code ?? e.message)})` };
      }
    },
  };
}
