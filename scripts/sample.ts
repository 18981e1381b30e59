/**
 * `npm start -- --sample`: posts the README's sample alert to ingest and waits until history shows its incident,
 * its Slack thread and its page. With tokens configured (as the README's Production section advises) it carries
 * one for ingest and one for history, and a history that still refuses is said at once, not after the wait.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The token of an INGEST_TOKENS entry (`NAME:TOKEN`), of INGEST_TOKEN first. */
export function ingestTokenOf(env: NodeJS.ProcessEnv): string | undefined {
  return env.INGEST_TOKEN || env.INGEST_TOKENS?.split(',')[0]?.split(':').slice(1).join(':').trim() || undefined;
}

/**
 * A token history takes for reads: ALERTBUS_TOKEN or HISTORY_TOKEN, else one of HISTORY_API_TOKENS (or its file),
 * a `viewer` one when there is one (the least power that reads). Entries as history parses them: NAME:ROLE:TOKEN,
 * separated by commas or newlines, `#` lines skipped.
 */
export function historyTokenOf(env: NodeJS.ProcessEnv): string | undefined {
  const given = env.ALERTBUS_TOKEN || env.HISTORY_TOKEN;
  if (given) return given;
  let text = env.HISTORY_API_TOKENS;
  if (!text && env.HISTORY_API_TOKENS_FILE) {
    try {
      text = readFileSync(env.HISTORY_API_TOKENS_FILE, 'utf8');
    } catch {
      // history itself refuses to start on an unreadable file and says so
      return undefined;
    }
  }
  if (!text) return undefined;
  const entries = text
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .join(',')
    .split(',')
    .map((e) => e.trim().split(':'))
    .filter((f) => f.length >= 3)
    .map(([, role, ...token]) => ({ role: role!.trim(), token: token.join(':').trim() }));
  return (entries.find((e) => e.role === 'viewer') ?? entries[0])?.token || undefined;
}

export interface SampleOptions {
  root: string;
  ingest: string;
  history: string;
  /** A pager is configured: the incident is complete only once its page is recorded. */
  livePager: boolean;
  env: NodeJS.ProcessEnv;
  say: (msg: string) => void;
  /** False once the stack is stopping: the wait ends quietly. */
  running?: () => boolean;
  timeoutMs?: number;
}

/** Posts the sample alert and waits until the incident, its thread and its page are recorded. */
export async function routeSample(o: SampleOptions): Promise<void> {
  const running = o.running ?? (() => true);
  const body = readFileSync(join(o.root, 'examples', 'alertmanager-firing.json'), 'utf8');
  const ingestToken = ingestTokenOf(o.env);
  const res = await fetch(`${o.ingest}/webhooks/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(ingestToken ? { authorization: `Bearer ${ingestToken}` } : {}) },
    body,
  });
  const accepted = (await res.json()) as { aliases?: string[] };
  const alias = accepted.aliases?.[0];
  o.say(`sample alert posted: HTTP ${res.status}, alias ${alias}`);
  if (!res.ok || !alias) return;
  const historyToken = historyTokenOf(o.env);
  const historyHeaders: Record<string, string> = historyToken ? { authorization: `Bearer ${historyToken}` } : {};
  const timeoutMs = o.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && running()) {
    const answer = await fetch(`${o.history}/api/incidents?alias=${encodeURIComponent(alias)}&status=open`, { headers: historyHeaders });
    // A refused token is refused on every poll: waiting out the deadline would only hide why.
    if (answer.status === 401 || answer.status === 403) {
      await answer.body?.cancel();
      o.say(`history answered ${answer.status} to the sample's query: set ALERTBUS_TOKEN to a viewer token of HISTORY_API_TOKENS`);
      return;
    }
    const list = (await answer.json()) as {
      incidents?: Array<{ incident_id: string; slack_root_ts: string | null; pager_alert_id: string | null }>;
    };
    const inc = list.incidents?.[0];
    if (inc && inc.slack_root_ts && (inc.pager_alert_id || !o.livePager)) {
      o.say(`sample incident ${inc.incident_id}: Slack root ts ${inc.slack_root_ts}, pager alert ${inc.pager_alert_id ?? '(dry run)'}`);
      o.say(`  timeline: ${o.history}/api/incidents/${inc.incident_id}  ·  page: ${o.history}/`);
      return;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  if (running()) o.say(`the sample incident did not show up within ${timeoutMs / 1000} s: see the services' logs above`);
}
