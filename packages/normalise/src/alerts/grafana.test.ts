import { validateEnvelope } from '@alertbus/schemas';
import { toAlertEnvelopes } from '../envelopes';
import { GrafanaPayload } from '../payloads/grafana';
import { fixture, fixtureNames, requestSchemaErrors } from '../../../../test/support/fixtures';
import { normaliseGrafana } from './grafana';
import type { NormaliseResult } from './result';

interface Expected {
  statuses: Array<'firing' | 'resolved'>;
  aliases: string[];
  occurredAt: Array<string | undefined>;
  check?: (r: Extract<NormaliseResult, { ok: true }>) => void;
}

const RECORDED_AT = '2026-01-01T00:00:00.000Z';

/** Every file in shared/fixtures/grafana must have a row. */
const table: Record<string, Expected> = {
  'grafana_alerting_default_payload_template_one_alert.json': {
    statuses: ['firing'],
    aliases: ['grafana:fac0861a85de433a'],
    occurredAt: [undefined], // Grafana's template sends the zero time
    check: (r) => {
      const d = r.alerts[0]!.data;
      expect(d.title).toBe('alert1');
      expect(d.values).toBeUndefined(); // values: null
      expect(d.startsAt).toBeUndefined();
      // empty dashboardURL/panelURL are not links
      expect(d.links.map((l) => l.title)).toEqual(['Source', 'Silence', 'Grafana']);
      expect((d.raw as { values: unknown; group: { title: string } }).values).toBeNull();
      expect((d.raw as { group: { title: string } }).group.title).toBe('[FIRING:1]  (val1)');
    },
  },
  'grafana_docs_webhook_example.json': {
    statuses: ['firing', 'firing'],
    aliases: ['grafana:c6eadffa33fcdf37', 'grafana:bc97ff14869b13e3'],
    occurredAt: ['2021-10-12T07:51:03.157Z', '2021-10-12T07:56:03.157Z'],
    check: (r) => {
      const d = r.alerts[0]!.data;
      expect(d.values).toEqual({ B: 44.23943737541908, C: 1 });
      expect(d.title).toBe('This alert was triggered for zone us-1');
      expect(d.severity).toBe('unknown');
      expect(d.links.map((l) => l.title)).toEqual(['Source', 'Runbook', 'Silence', 'Grafana']);
    },
  },
  'zulip_firing_values_imageURL_v11.json': {
    statuses: ['firing'],
    aliases: ['grafana:e6349a25f5ef0e9e'],
    occurredAt: ['2024-03-01T02:09:00.000Z'],
    check: (r) => {
      const d = r.alerts[0]!.data;
      expect(d.values).toEqual({ A: 2473545728, B: 0, C: 1, minute: 9 });
      expect(d.links.map((l) => l.title)).toEqual(['Source', 'Dashboard', 'Panel', 'Silence', 'Image', 'Grafana']);
      expect(d.links.find((l) => l.title === 'Image')!.url).toBe('https://grafana.com/assets/img/blog/mixed_styles.png');
    },
  },
  'zulip_mixed_firing_resolved_v9.json': {
    // The group says firing; two of its alerts are resolved.
    statuses: ['resolved', 'resolved', 'firing'],
    aliases: ['grafana:aaafafe0953f0962', 'grafana:fb31814ac93dbe7d', 'grafana:6f9cd313db421ef1'],
    occurredAt: ['2022-06-17T01:08:28.652Z', '2022-06-17T01:08:28.652Z', '2022-06-17T01:03:00.782Z'],
    check: (r) => {
      expect(r.alerts.map((a) => a.data.title)).toEqual([
        'This is a summary field, failure on badhost.example.com',
        'This is a summary field, failure on otherhost.example.com',
        'Testing **another** failing alert',
      ]);
      expect(r.alerts[2]!.data.groupKey).toBe('{}/{test="true"}:{}');
    },
  },
  'zulip_resolved_v9.json': {
    statuses: ['resolved'],
    aliases: ['grafana:d8a21484c9c25a60'],
    occurredAt: ['2022-06-17T00:51:24.067Z'],
  },
};

describe('normaliseGrafana over every real fixture', () => {
  test('the table describes every fixture file', () => {
    expect(Object.keys(table).sort()).toEqual(fixtureNames('grafana'));
  });

  test.each(fixtureNames('grafana'))('%s', (name) => {
    const body = fixture<GrafanaPayload>(`grafana/${name}`);
    expect(requestSchemaErrors(GrafanaPayload, body)).toBeNull();
    const expected = table[name]!;
    const result = normaliseGrafana(body);
    if (!result.ok) throw new Error(`unexpected error: ${result.message}`);

    expect(result.alerts.map((a) => a.data.status)).toEqual(expected.statuses);
    expect(result.alerts.map((a) => a.alias)).toEqual(expected.aliases);
    expect(result.alerts.map((a) => a.occurredAt)).toEqual(expected.occurredAt);

    const { alerts: rawAlerts, ...group } = body as unknown as { alerts: unknown[] } & Record<string, unknown>;
    result.alerts.forEach((a, i) => {
      expect(a.data.source).toBe('grafana');
      expect(a.data.raw).toEqual(i === 0 ? { ...(rawAlerts[i] as object), group } : rawAlerts[i]);
    });

    let n = 0;
    const events = toAlertEnvelopes(result.alerts, { source: 'grafana', recordedAt: RECORDED_AT, newId: () => `id-${++n}` });
    for (const e of events) expect(validateEnvelope(e)).toEqual({ ok: true, event: e });
    expect(events.map((e) => e.occurredAt)).toEqual(expected.occurredAt.map((t) => t ?? RECORDED_AT));
    expected.check?.(result);
  });
});

describe('normaliseGrafana edge cases', () => {
  test('without a fingerprint the alias is the label hash, with the grafana prefix', () => {
    const r = normaliseGrafana({ status: 'firing', alerts: [{ labels: { alertname: 'x' } }] });
    expect(r.ok && r.alerts[0]!.alias).toMatch(/^grafana:[0-9a-f]{16}$/);
  });

  test('a wrong values map is rejected by the request schema, naming the field', () => {
    const errors = requestSchemaErrors(GrafanaPayload, { alerts: [{ labels: {}, values: { A: 'high' } }] });
    expect(errors).toContain('body/alerts/0/values/A');
  });

  test('an Alertmanager webhook (version "4", no orgId) is refused, naming its endpoint: accepted, it would be a second incident', () => {
    for (const name of fixtureNames('alertmanager').filter((n) => !n.includes('malformed'))) {
      const r = normaliseGrafana(fixture(`alertmanager/${name}`) as GrafanaPayload);
      expect(r).toEqual({ ok: false, field: 'body/version', message: expect.stringContaining('set the receiver\'s url to /webhooks/alertmanager') });
    }
    // A hand-written group without a version is still taken.
    expect(normaliseGrafana({ alerts: [{ status: 'firing', labels: { alertname: 'x' } }] }).ok).toBe(true);
  });
});

describe('normaliseGrafana values', () => {
  const one = (alert: Partial<GrafanaPayload['alerts'][number]>) => {
    const r = normaliseGrafana({ status: 'firing', alerts: [{ labels: { alertname: 'x' }, ...alert }] });
    if (!r.ok) throw new Error(r.message);
    return r.alerts[0]!.data;
  };

  test('values null with a valueString: the values are read from it, numbers as Grafana wrote them', () => {
    const body = fixture<GrafanaPayload>('grafana/zulip_firing_values_imageURL_v11.json');
    const { values: _, ...alert } = body.alerts[0]!;
    const d = one({ ...alert, values: null });
    expect(d.values).toEqual({ A: 2473545728, B: 0, C: 1, minute: 9 });
    // and the event still validates
    const events = toAlertEnvelopes([{ alias: 'grafana:x', data: d }], { source: 'grafana', recordedAt: RECORDED_AT, newId: () => 'id-1' });
    expect(validateEnvelope(events[0]!)).toEqual({ ok: true, event: events[0] });
  });

  test('values sent win over valueString; NaN and Inf in a valueString are null; nothing to read is no field', () => {
    expect(one({ values: { A: 1 }, valueString: "[ var='B' labels={} value=2 ]" }).values).toEqual({ A: 1 });
    expect(one({ valueString: "[ var='A' labels={} value=NaN ], [ var='B' labels={x=y} value=+Inf ], [ var='C' labels={} value=-0.5 ]" }).values).toEqual({
      A: null,
      B: null,
      C: -0.5,
    });
    expect(one({ values: null, valueString: '' }).values).toBeUndefined();
    expect(one({ valueString: 'not the format' }).values).toBeUndefined();
    expect(one({ values: {} }).values).toBeUndefined();
  });

  test('bounded: at most 50 values, over-long names left out, a huge valueString read in one pass', () => {
    const many = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`Q${i}`, i]));
    const kept = one({ values: { ['n'.repeat(500)]: 1, ...many } }).values!;
    expect(Object.keys(kept)).toHaveLength(50);
    expect(kept).not.toHaveProperty('n'.repeat(500));
    // An adversarial valueString (many openings, no value) ends quickly and keeps nothing.
    expect(one({ valueString: "[ var='A".repeat(200_000) }).values).toBeUndefined();
    const long = Array.from({ length: 5_000 }, (_, i) => `[ var='V${i}' labels={} value=${i} ]`).join(', ');
    expect(Object.keys(one({ valueString: long }).values!)).toHaveLength(50);
  });
});
