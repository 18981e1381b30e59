import { deriveId, makeEnvelope, type AlertReceived, type Envelope } from '@alertbus/schemas';

export const T0 = Date.parse('2025-03-01T10:00:00.000Z');
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

export interface AlertInit extends Partial<AlertReceived> {
  /** Milliseconds after T0 at which alertbus recorded the alert. */
  at?: number;
  /** Distinguishes inputs of the same alias and status; part of the input id. */
  n?: number;
}

/** An AlertReceived as ingest would write it, with a deterministic id. */
export function alert(alias: string, status: 'firing' | 'resolved', init: AlertInit = {}): Envelope<'AlertReceived'> {
  const { at = 0, n = 0, ...data } = init;
  const recordedAt = new Date(T0 + at).toISOString();
  const id = deriveId('test-input', alias, status, at, n);
  return makeEnvelope({
    id,
    type: 'AlertReceived',
    alias,
    occurredAt: recordedAt,
    recordedAt,
    source: 'ingest/alertmanager',
    correlationId: id,
    data: {
      source: 'alertmanager',
      status,
      title: `Disk almost full on ${alias}`,
      severity: 'critical',
      description: 'Less than 5% free on /var.',
      labels: { alertname: 'DiskFull', instance: 'db-1:9100', team: 'db' },
      annotations: { summary: 'Disk almost full' },
      links: [{ title: 'Source', url: 'http://prometheus:9090/graph?g0.expr=disk' }],
      raw: { fingerprint: alias },
      ...data,
    },
  });
}

export const firing = (alias: string, init: AlertInit = {}) => alert(alias, 'firing', init);
export const resolved = (alias: string, init: AlertInit = {}) => alert(alias, 'resolved', init);
