import { validateEnvelope } from '@alertbus/schemas';
import { toAlertEnvelopes } from '../envelopes';
import { AlertmanagerPayload } from '../payloads/alertmanager';
import { fixture, fixtureNames, requestSchemaErrors } from '../../../../test/support/fixtures';
import { normaliseAlertmanager } from './alertmanager';
import type { NormaliseResult } from './result';

type Expected =
  | { error: string }
  | {
      statuses: Array<'firing' | 'resolved'>;
      aliases?: string[];
      /** occurredAt per alert; undefined = the source gave no usable time, recordedAt is used. */
      occurredAt?: Array<string | undefined>;
      check?: (r: Extract<NormaliseResult, { ok: true }>) => void;
    };

const HASH_ALIAS = /^alertmanager:[0-9a-f]{16}$/;

/** Every file in shared/fixtures/alertmanager must have a row: a new fixture fails until it is described. */
const table: Record<string, Expected> = {
  'alertmonitor_firing_three_alerts.json': {
    statuses: ['firing', 'firing', 'firing'],
    occurredAt: Array(3).fill('2019-09-27T16:27:56.612Z'),
    check: (r) => {
      for (const a of r.alerts) expect(a.alias).toMatch(HASH_ALIAS);
      expect(new Set(r.alerts.map((a) => a.alias)).size).toBe(3);
      expect(r.alerts[0]!.data.severity).toBe('major');
      expect(r.alerts[0]!.data.title).toBe('ICMP ping failed');
      expect(r.alerts[0]!.data.endsAt).toBeUndefined();
    },
  },
  'alertmonitor_resolved_three_alerts.json': {
    statuses: ['resolved', 'resolved', 'resolved'],
    occurredAt: [undefined, undefined, undefined],
    check: (r) => {
      // No fingerprint: the label hash must equal the firing file's, or the resolve would never close anything.
      const firing = normaliseAlertmanager(fixture('alertmanager/alertmonitor_firing_three_alerts.json'));
      expect(firing.ok).toBe(true);
      if (firing.ok) expect(r.alerts.map((a) => a.alias)).toEqual(firing.alerts.map((a) => a.alias));
    },
  },
  'k8s_resolved_truncatedAlerts.json': {
    statuses: ['resolved'],
    aliases: ['alertmanager:fbab788ec4c1018b'],
    occurredAt: ['2022-07-29T11:17:27.300Z'],
    check: (r) => {
      const d = r.alerts[0]!.data;
      expect(d.title).toBe('Kubernetes Deployment Replicas Mismatch');
      expect(d.severity).toBe('Warning');
      expect(d.endsAt).toBe('2022-07-29T11:17:27.3Z');
      expect(d.groupKey).toBe('{}:{alertname="Deployment"}');
      expect(d.links.map((l) => l.title)).toEqual(['Source', 'Alertmanager']);
    },
  },
  'prom2teams_k8s_resolved_with_common_items.json': {
    statuses: ['resolved'],
    aliases: ['alertmanager:dd19ae3d4e06ac55'],
    occurredAt: ['2019-01-28T20:27:23.868Z'],
    check: (r) => {
      const d = r.alerts[0]!.data;
      expect(d.title).toBe('CPU throttling');
      expect(d.description).toMatch(/^27% throttling of CPU/); // annotations.message when there is no description
      expect(d.links).toEqual([
        { title: 'Source', url: expect.stringContaining('&g0.tab=1') },
        { title: 'Runbook', url: expect.stringContaining('runbook.md#alert-name-cputhrottlinghigh') },
        { title: 'Alertmanager', url: 'http://ot-mon-prometheus-operator-alertmanager.monitoring:9093' },
      ]);
    },
  },
  'prom2teams_malformed_missing_status_alertname.json': { error: 'body/alerts/0/status' },
  'prom2teams_resolved_two_alerts.json': {
    statuses: ['resolved', 'resolved'],
    aliases: ['alertmanager:dd19ae3d4e06ac55', 'alertmanager:dd19ae3d4e06ac55'],
    occurredAt: ['2017-05-09T07:08:37.818Z', '2017-05-09T07:08:37.818Z'],
    check: (r) => {
      expect(r.alerts.map((a) => a.data.severity)).toEqual(['severe', 'critical']);
      expect(r.alerts.map((a) => a.data.title)).toEqual(['Disk usage alert on CS30.evilcorp', 'Disk usage alert on CS31.evilcorp']);
      expect(r.alerts[0]!.data.groupKey).toBeUndefined();
    },
  },
  'prometheus_msteams_legacy_no_alert_status.json': {
    statuses: ['firing'], // the alert has no status: the group's is used
    occurredAt: ['2018-03-07T11:33:21.873Z'],
    check: (r) => {
      expect(r.alerts[0]!.alias).toMatch(HASH_ALIAS);
      expect(r.alerts[0]!.data.fingerprint).toBeUndefined();
      expect(r.alerts[0]!.data.startsAt).toBe('2018-03-07T06:33:21.873077559-05:00');
      expect(r.alerts[0]!.data.links).toEqual([{ title: 'Alertmanager', url: 'http://docker.for.mac.host.internal:9093' }]);
    },
  },
  'zulip_firing_two_alerts.json': {
    statuses: ['firing', 'firing'],
    aliases: ['alertmanager:a1bc48475b20e73d', 'alertmanager:c2ea85182f28cbd9'],
    occurredAt: ['2020-02-06T00:17:58.432Z', '2020-02-06T00:17:58.432Z'],
    check: (r) => {
      const d = r.alerts[0]!.data;
      expect(d).toMatchObject({
        source: 'alertmanager',
        fingerprint: 'a1bc48475b20e73d',
        title: 'High CPU core temperature',
        severity: 'critical',
        description: 'CPU core temperature is 34.75C',
        groupKey: '{}/{}:{}',
        startsAt: '2020-02-06T00:17:58.432911368Z',
      });
      expect(d.endsAt).toBeUndefined();
      expect(d.links.map((l) => l.title)).toEqual(['Source', 'Alertmanager']);
    },
  },
  'zulip_resolved_single.json': {
    statuses: ['resolved'],
    aliases: ['alertmanager:a1bc48475b20e73d'],
    occurredAt: [undefined], // resolved with a zero endsAt: recordedAt is used
  },
};

describe('normaliseAlertmanager over every real fixture', () => {
  test('the table describes every fixture file', () => {
    expect(Object.keys(table).sort()).toEqual(fixtureNames('alertmanager'));
  });

  test.each(fixtureNames('alertmanager'))('%s', (name) => {
    const body = fixture<AlertmanagerPayload>(`alertmanager/${name}`);
    expect(requestSchemaErrors(AlertmanagerPayload, body)).toBeNull();
    const expected = table[name]!;
    const result = normaliseAlertmanager(body);

    if ('error' in expected) {
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.field).toBe(expected.error);
        expect(result.message).toContain(expected.error);
      }
      return;
    }
    if (!result.ok) throw new Error(`unexpected error: ${result.message}`);
    expect(result.alerts.map((a) => a.data.status)).toEqual(expected.statuses);
    if (expected.aliases) expect(result.alerts.map((a) => a.alias)).toEqual(expected.aliases);
    if (expected.occurredAt) expect(result.alerts.map((a) => a.occurredAt)).toEqual(expected.occurredAt);

    const { alerts: rawAlerts, ...group } = body as unknown as { alerts: unknown[] } & Record<string, unknown>;
    result.alerts.forEach((a, i) => {
      expect(a.data.source).toBe('alertmanager');
      // The group's fields are kept once, with the request's first alert; the others are the alert as sent.
      expect(a.data.raw).toEqual(i === 0 ? { ...(rawAlerts[i] as object), group } : rawAlerts[i]);
    });
    expect((result.alerts[0]!.data.raw as { group: object }).group).not.toHaveProperty('alerts');

    const events = toAlertEnvelopes(result.alerts, {
      source: 'alertmanager',
      recordedAt: '2026-01-01T00:00:00.000Z',
      newId: (() => {
        let n = 0;
        return () => `id-${++n}`;
      })(),
    });
    for (const e of events) {
      expect(validateEnvelope(e)).toEqual({ ok: true, event: e });
      expect(e.source).toBe('ingest/alertmanager');
    }
    if (expected.occurredAt) {
      expect(events.map((e) => e.occurredAt)).toEqual(expected.occurredAt.map((t) => t ?? '2026-01-01T00:00:00.000Z'));
    }
    expected.check?.(result);
  });
});

describe('normaliseAlertmanager edge cases', () => {
  const alert = { labels: { alertname: 'A', b: '2', a: '1' } };

  test('a Grafana webhook (version "1" with an orgId) is refused, naming its endpoint: accepted, it would be a second incident without its values and links', () => {
    for (const name of fixtureNames('grafana')) {
      const r = normaliseAlertmanager(fixture(`grafana/${name}`) as AlertmanagerPayload);
      expect(r).toEqual({ ok: false, field: 'body/version', message: expect.stringContaining("set the contact point's URL to /webhooks/grafana") });
    }
  });

  test('a start past year 9999 in UTC is no start: the group is recorded, not refused for an occurredAt it never sent', () => {
    const r = normaliseAlertmanager({
      status: 'firing',
      alerts: [{ ...alert, startsAt: '9999-12-31T23:59:59-01:00' }, { labels: { alertname: 'B' }, startsAt: '2026-01-01T00:00:00Z' }],
    });
    if (!r.ok) throw new Error(r.message);
    const events = toAlertEnvelopes(r.alerts, { source: 'alertmanager', recordedAt: '2026-02-01T00:00:00.000Z', newId: () => 'id-1' });
    expect(events.map((e) => validateEnvelope(e).ok)).toEqual([true, true]);
    expect(events.map((e) => e.occurredAt)).toEqual(['2026-02-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z']);
  });

  test('each alert keeps its own status inside a group of the other status', () => {
    const r = normaliseAlertmanager({ status: 'firing', alerts: [{ ...alert, status: 'resolved' }, alert] });
    expect(r.ok && r.alerts.map((a) => a.data.status)).toEqual(['resolved', 'firing']);
  });

  test('the label-hash alias does not depend on label order and ignores an empty fingerprint', () => {
    const a = normaliseAlertmanager({ status: 'firing', alerts: [{ labels: { x: '1', y: '2' }, fingerprint: '' }] });
    const b = normaliseAlertmanager({ status: 'firing', alerts: [{ labels: { y: '2', x: '1' } }] });
    expect(a.ok && b.ok && a.alerts[0]!.alias).toBe(b.ok && b.alerts[0]!.alias);
  });

  test('title and severity fall back when the source has none', () => {
    const r = normaliseAlertmanager({ status: 'firing', alerts: [{ labels: {}, annotations: { summary: '  ' } }] });
    expect(r.ok && r.alerts[0]!.data).toMatchObject({ title: 'alert', severity: 'unknown', annotations: { summary: '  ' } });
  });

  test('links keep their order and leave out blank and repeated URLs; a blank summary gives way to the alert name', () => {
    const r = normaliseAlertmanager({
      status: 'firing',
      externalURL: 'http://prom.example/graph',
      alerts: [{ labels: { alertname: 'Disk', severity: 'x'.repeat(70) }, annotations: { summary: '', runbook_url: ' ' }, generatorURL: 'http://prom.example/graph' }],
    });
    expect(r.ok && r.alerts[0]!.data).toMatchObject({
      title: 'Disk',
      severity: 'x'.repeat(64),
      links: [{ title: 'Source', url: 'http://prom.example/graph' }],
    });
  });

  test('a second alert without any status names its own index', () => {
    const r = normaliseAlertmanager({ alerts: [{ ...alert, status: 'firing' }, alert] });
    expect(r).toMatchObject({ ok: false, field: 'body/alerts/1/status' });
  });
});
