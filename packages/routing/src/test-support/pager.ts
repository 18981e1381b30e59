import { deriveId, makeEnvelope, type Envelope, type PagerActionReceived } from '@alertbus/schemas';
import { T0 } from './alerts';

/**
 * The Opsgenie webhook's report of `action` on the pager alert with alias `alias`, `at` ms after T0, as ingest writes
 * it; `by` is the webhook's `source.name` (who acted through which channel: `alertbus` for alertbus's own actions).
 */
export function pagerAction(
  action: string,
  alias: string,
  init: Partial<PagerActionReceived> & { at?: number; by?: string } = {},
): Envelope<'PagerActionReceived'> {
  const { at = 5_000, by, ...data } = init;
  const id = deriveId('test-pager-action', alias, action, at);
  const when = new Date(T0 + at).toISOString();
  return makeEnvelope({
    id,
    type: 'PagerActionReceived',
    alias,
    occurredAt: when,
    recordedAt: when,
    source: 'ingest/opsgenie',
    correlationId: id,
    data: {
      provider: 'opsgenie',
      action,
      alertId: '052652ac-5d1c-464a-812a-7dd18bbfba8c',
      pagerAlias: alias,
      user: 'pager-person',
      raw: by === undefined ? { action } : { action, source: { name: by, type: 'API' } },
      ...data,
    },
  });
}
