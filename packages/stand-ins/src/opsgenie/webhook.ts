import { INTEGRATION_ID, type OpsgenieAlertAction } from './state';

/** Where the stand-in posts alert actions, as Opsgenie's Webhook integration (Settings → Integrations → Webhook) does. */
export interface OpsgenieWebhookConfig {
  url: string;
  /** Sent as the Authorization header (the integration's custom header), e.g. `Bearer <token>`. */
  authorization?: string;
  /** The integration's name, sent as integrationName; default "Webhook". */
  integrationName?: string;
}

/** One post of the webhook and how it went (status, or the error when nothing answered). */
export interface OpsgenieWebhookDelivery {
  action: OpsgenieAlertAction['action'];
  alias: string;
  body: Record<string, unknown>;
  status?: number;
  error?: string;
}

const WEBHOOK_INTEGRATION_ID = '37c8f316-17c6-49d7-899b-9c7e540c048d';

/**
 * The "alert action data" body Opsgenie's Webhook integration posts (https://docs.opsgenie.com/docs/marid-alert-action-data;
 * JSM Ops documents the same at .../alert-action-data-for-jira-edge-connector): alert.updatedAt in nanoseconds,
 * createdAt in milliseconds, username = the request's user (the API key's integration when none was given).
 */
export function alertActionBody(a: OpsgenieAlertAction, integrationName = 'Webhook'): Record<string, unknown> {
  const { alert } = a;
  return {
    source: { name: a.source ?? '', type: 'API' },
    alert: {
      updatedAt: Date.parse(a.at) * 1_000_000,
      tags: alert.tags,
      message: alert.message,
      username: a.user ?? 'System',
      alertId: alert.id,
      source: alert.source,
      alias: alert.alias,
      tinyId: alert.tinyId,
      createdAt: Date.parse(alert.createdAt),
      userId: INTEGRATION_ID,
      entity: alert.entity ?? '',
    },
    action: a.action,
    integrationId: WEBHOOK_INTEGRATION_ID,
    integrationName,
  };
}

/**
 * The stand-in's outgoing Webhook integration: off until configured; then every Acknowledge, UnAcknowledge and Close that changes an
 * alert, whoever made it (alertbus itself through the API included, as with the real pager), is posted once to the URL.
 */
export class OpsgenieWebhook {
  private config: OpsgenieWebhookConfig | null = null;
  readonly deliveries: OpsgenieWebhookDelivery[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  configure(config: OpsgenieWebhookConfig | null): void {
    this.config = config;
  }

  get configured(): OpsgenieWebhookConfig | null {
    return this.config;
  }

  send(a: OpsgenieAlertAction): void {
    const config = this.config;
    if (!config) return;
    const body = alertActionBody(a, config.integrationName);
    const delivery: OpsgenieWebhookDelivery = { action: a.action, alias: a.alert.alias, body };
    this.deliveries.push(delivery);
    const p = fetch(config.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(config.authorization ? { authorization: config.authorization } : {}) },
      body: JSON.stringify(body),
    })
      .then(async (res) => {
        delivery.status = res.status;
        await res.arrayBuffer();
      })
      .catch((err: Error) => {
        delivery.error = err.message;
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** Waits for the posts under way (on close). */
  async settled(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }
}
