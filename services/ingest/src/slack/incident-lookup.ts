/**
 * The alias of an incident id, asked of the history API, so `/alertbus ack <id>` can be keyed by the alias and
 * reach the partition that holds the incident. Bounded in time: Slack wants its answer within 3 s.
 */
import { NO_SUCH_INCIDENT } from '@alertbus/routing';

export type IncidentAlias = { alias: string } | { problem: string };

export interface IncidentLookup {
  aliasOf(incidentId: string): Promise<IncidentAlias>;
}

/** Why an incident id is not looked up when ingest has no history API to ask (slash commands and mentions alike). */
export const NO_INCIDENT_LOOKUP = 'incident ids cannot be looked up here (ingest has no HISTORY_URL); use the alias';

/** How long the look-up may take out of Slack's 3 s (the Kafka write needs the rest). */
export const INCIDENT_LOOKUP_TIMEOUT_MS = 800;

export function historyIncidentLookup(opts: { historyUrl: string; token?: string; timeoutMs?: number }): IncidentLookup {
  const base = opts.historyUrl.replace(/\/+$/, '');
  return {
    async aliasOf(incidentId) {
      try {
        const res = await fetch(`${base}/api/incidents/${encodeURIComponent(incidentId)}`, {
          headers: { accept: 'application/json', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
          signal: AbortSignal.timeout(opts.timeoutMs ?? INCIDENT_LOOKUP_TIMEOUT_MS),
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
