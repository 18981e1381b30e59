import { validateEnvelope } from '@alertbus/schemas';
import { toAlertEnvelopes } from '../envelopes';
import { GenericPayload } from '../payloads/generic';
import { requestSchemaErrors } from '../../../../test/support/fixtures';
import { normaliseGeneric } from './generic';

const ok = (payload: GenericPayload) => {
  expect(requestSchemaErrors(GenericPayload, payload)).toBeNull();
  const r = normaliseGeneric(payload);
  if (!r.ok) throw new Error(r.message);
  return r.alerts;
};

describe('normaliseGeneric', () => {
  test('one object: defaults to firing, severity unknown, alias from labels + title', () => {
    const [a] = ok({ title: 'Disk full on db1', labels: { host: 'db1' } });
    expect(a!.alias).toMatch(/^generic:[0-9a-f]{16}$/);
    expect(a!.occurredAt).toBeUndefined();
    expect(a!.data).toMatchObject({ source: 'generic', status: 'firing', severity: 'unknown', title: 'Disk full on db1' });
    expect(a!.data.raw).toEqual({ title: 'Disk full on db1', labels: { host: 'db1' }, group: {} });
  });

  test('a title of blanks gives way to the alert name, else "alert"; the alias is made from the title as sent', () => {
    const [named] = ok({ title: '   ', labels: { alertname: 'DiskFull', host: 'db1' } });
    const [unnamed] = ok({ title: ' \t ', labels: { host: 'db1' } });
    expect([named!.data.title, unnamed!.data.title]).toEqual(['DiskFull', 'alert']);
    expect(named!.alias).toBe(ok({ title: '   ', labels: { host: 'db1', alertname: 'DiskFull' } })[0]!.alias);
    expect(named!.alias).not.toBe(ok({ title: 'DiskFull', labels: { alertname: 'DiskFull', host: 'db1' } })[0]!.alias);
  });

  test('a severity longer than 64 (from a label, which is not bounded there) is cut at 64 code points, an emoji across the cut kept whole', () => {
    const [a] = ok({ title: 't', labels: { severity: `${'a'.repeat(63)}😀😀` } });
    expect(a!.data.severity).toBe(`${'a'.repeat(63)}😀`);
    const [event] = toAlertEnvelopes([a!], { source: 'generic', recordedAt: '2026-11-30T09:00:00.000Z', newId: () => '00000000-0000-4000-8000-000000000001' });
    expect(validateEnvelope(event!)).toMatchObject({ ok: true });
  });

  test('an explicit alias wins; the hash is stable across label order and changes with the title', () => {
    const [explicit] = ok({ alias: 'backup-nightly', title: 'Backup failed' });
    expect(explicit!.alias).toBe('generic:backup-nightly');
    const [x] = ok({ title: 'T', labels: { a: '1', b: '2' } });
    const [y] = ok({ title: 'T', labels: { b: '2', a: '1' } });
    const [z] = ok({ title: 'Other', labels: { a: '1', b: '2' } });
    expect(x!.alias).toBe(y!.alias);
    expect(z!.alias).not.toBe(x!.alias);
  });

  test('a batch keeps every field and puts the other top-level fields under raw.group of its first alert, once', () => {
    const alerts = ok({
      alerts: [
        {
          title: 'Cert expires',
          status: 'resolved',
          severity: 'warning',
          description: 'renewed',
          labels: { cert: 'api' },
          annotations: { owner: 'web' },
          links: [{ title: 'Dashboard', url: 'https://grafana.example/d/1' }],
          occurredAt: '2026-03-01T10:00:00+01:00',
        },
        { title: 'Queue backlog', labels: { severity: 'critical' } },
      ],
      sender: 'cron',
    } as GenericPayload);
    expect(alerts.map((a) => a.data.status)).toEqual(['resolved', 'firing']);
    expect(alerts[0]!.occurredAt).toBe('2026-03-01T09:00:00.000Z');
    expect(alerts[0]!.data).toMatchObject({
      severity: 'warning',
      description: 'renewed',
      annotations: { owner: 'web' },
      links: [{ title: 'Dashboard', url: 'https://grafana.example/d/1' }],
    });
    expect(alerts[1]!.data.severity).toBe('critical'); // from labels.severity
    expect((alerts[0]!.data.raw as { group: unknown }).group).toEqual({ sender: 'cron' });
    expect(alerts[1]!.data.raw).toEqual({ title: 'Queue backlog', labels: { severity: 'critical' } });

    let n = 0;
    const events = toAlertEnvelopes(alerts, { source: 'generic', recordedAt: '2026-03-01T09:00:05.000Z', newId: () => `id-${++n}` });
    for (const e of events) expect(validateEnvelope(e).ok).toBe(true);
    expect(events[1]!.occurredAt).toBe('2026-03-01T09:00:05.000Z');
    // Both name the request by its first event, the one that keeps the group.
    expect(events.map((e) => e.data.request)).toEqual([
      { id: 'id-1', index: 0, count: 2 },
      { id: 'id-1', index: 1, count: 2 },
    ]);
  });

  test.each([
    [{ status: 'firing' }, "body must have required property 'title'"],
    [{ title: '' }, 'body/title must NOT have fewer than 1 characters'],
    [{ alerts: [{ title: 'x', status: 'open' }] }, 'body/alerts/0/status must be equal to one of the allowed values'],
    [{ alerts: [] }, 'body/alerts must NOT have fewer than 1 items'],
    [{ title: 'x', labels: { n: 1 } }, 'body/labels/n must be string'],
    [{ title: 'x', occurredAt: 'yesterday' }, 'body/occurredAt must match format "date-time"'],
  ])('the request schema rejects %j', (payload, message) => {
    expect(requestSchemaErrors(GenericPayload, payload)).toContain(message);
  });
});
