/**
 * The whole stack set up for the way back from the pager (Opsgenie's webhook pointed at ingest, named tokens for
 * Alertmanager and the pager), and what its end-to-end tests read of the stand-ins and history, or send to it.
 */
import { fixtureText } from './fixtures';
import { E2E_APP, slackHeaders, type StandInMessage } from './slack-requests';
import { startFullStack, type FullStack } from './stack';

export const SOURCE_TOKEN = 'alertmanager-token-0123456789';
export const PAGER_TOKEN = 'opsgenie-token-0123456789';
export const GENIE_KEY = 'e2e-key';

/** An incident as the history API lists it (the fields the tests read). */
export interface Incident {
  incident_id: string;
  alias: string;
  status: string;
  acknowledged_by: string | null;
  resolved_by: string | null;
}
export interface TimelineEntry {
  type: string;
  reason: string | null;
}

/** The whole stack, with the pager's Webhook integration set up as the README says: ingest's URL with the pager's own token. */
export async function startPagerStack(secret: string, env: NodeJS.ProcessEnv = {}): Promise<FullStack> {
  const full = await startFullStack({ SLACK_SIGNING_SECRET: secret, ...env, INGEST_TOKENS: `alertmanager:${SOURCE_TOKEN},opsgenie:${PAGER_TOKEN}` });
  full.opsgenie.webhook.configure({ url: `${full.stack.url('ingest')}/webhooks/opsgenie`, authorization: `Bearer ${PAGER_TOKEN}` });
  return full;
}

/** An Alertmanager webhook body (the one-alert fixture) of `fingerprint`, with `labels` added to its alert. */
export function alertmanagerBody(fingerprint: string, status: 'firing' | 'resolved', labels: Record<string, string> = {}): string {
  const body = JSON.parse(fixtureText('alertmanager/zulip_resolved_single.json'));
  body.status = status;
  body.alerts[0].status = status;
  body.alerts[0].fingerprint = fingerprint;
  Object.assign(body.alerts[0].labels, labels);
  return JSON.stringify(body);
}

/** Readers of the stack `current()` gives (started in `beforeAll`), and senders to it; `secret` signs Slack's requests. */
export function pagerStackIo(current: () => FullStack, secret: string) {
  const messages = () => current().slack.state.messages as StandInMessage[];
  const replies = (root: StandInMessage) => messages().filter((m) => m.channel === root.channel && m.thread_ts === root.ts && m.user === E2E_APP.userId);
  const pagerAlerts = (alias: string) => current().opsgenie.state.alerts.filter((a) => a.alias === alias);

  async function incidentsOf(alias: string): Promise<Incident[]> {
    return (await current().json<{ incidents: Incident[] }>('history', `/api/incidents?alias=${encodeURIComponent(alias)}`)).incidents;
  }
  async function timelineOf(incidentId: string): Promise<TimelineEntry[]> {
    return (await current().json<{ timeline: TimelineEntry[] }>('history', `/api/incidents/${incidentId}`)).timeline;
  }

  /** Posts an Alertmanager webhook body to ingest with Alertmanager's token; expects it taken. */
  async function postAlertmanager(body: string): Promise<void> {
    const res = await fetch(`${current().stack.url('ingest')}/webhooks/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SOURCE_TOKEN}` },
      body,
    });
    expect(res.status).toBe(202);
  }

  /** Posts a body of the pager's Webhook integration to ingest with the pager's token; expects it taken. */
  async function postPagerWebhook(body: unknown): Promise<void> {
    const res = await fetch(`${current().stack.url('ingest')}/webhooks/opsgenie`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${PAGER_TOKEN}` },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(202);
  }

  /** An action somebody takes on the pager alert in Opsgenie itself (its app): through the stand-in's API, which posts the webhook. */
  async function actInPager(kind: 'acknowledge' | 'unacknowledge' | 'close', alias: string, user: string): Promise<void> {
    const res = await fetch(`${current().opsgenie.url}/v2/alerts/${encodeURIComponent(alias)}/${kind}?identifierType=alias`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `GenieKey ${GENIE_KEY}` },
      body: JSON.stringify({ user, source: 'Opsgenie mobile app' }),
    });
    expect(res.status).toBe(202);
  }

  async function postInteraction(payload: unknown): Promise<void> {
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const res = await fetch(`${current().stack.url('ingest')}/slack/interactions`, {
      method: 'POST',
      headers: slackHeaders(body, secret, { contentType: 'application/x-www-form-urlencoded' }),
      body,
    });
    expect(res.status).toBe(200);
  }

  return { messages, replies, pagerAlerts, incidentsOf, timelineOf, postAlertmanager, postPagerWebhook, actInPager, postInteraction };
}
