import { readFileSync } from 'node:fs';
import { PAGER_FACTS_MAX, PAGER_LIMITS, pagerDescription, pagerDetails } from './pager';

const jsonLength = (d: Record<string, string>) => [...JSON.stringify(d)].length;

describe('pagerDetails: the details fit Opsgenie 8000 characters however it counts them', () => {
  test('90 ordinary labels: the details as sent (JSON) stay within the limit, the first labels kept', () => {
    const labels = Object.fromEntries(Array.from({ length: 90 }, (_, i) => [`label_${String(i).padStart(2, '0')}`, 'x'.repeat(80)]));
    const d = pagerDetails(labels, { alertbus_incident: 'inc-1', alertbus_source: 'alertmanager' });
    expect(jsonLength(d)).toBeLessThanOrEqual(PAGER_LIMITS.detailsTotal);
    expect(Object.keys(d).slice(0, 3)).toEqual(['alertbus_incident', 'alertbus_source', 'label_00']);
    // As many as fit: one more would go past the limit.
    expect(Object.keys(d).length).toBeGreaterThan(80);
    expect(Object.keys(d).length).toBeLessThan(92);
  });

  test('escapes count as sent: values full of quotes and newlines', () => {
    const labels = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`q${i}`, '"\n'.repeat(40)]));
    expect(jsonLength(pagerDetails(labels, {}))).toBeLessThanOrEqual(PAGER_LIMITS.detailsTotal);
  });

  test('labels named like Object.prototype members are kept, not taken as present', () => {
    expect(pagerDetails({ constructor: 'a', toString: 'b' }, {})).toEqual({ constructor: 'a', toString: 'b' });
  });

  test('an entry too large alone is left out, the rest kept', () => {
    expect(pagerDetails({ a: 'x'.repeat(9000), b: 'y' }, {})).toEqual({ b: 'y' });
  });
});

describe('pagerDescription: a long description is cut first, so the labels and links always reach the pager', () => {
  /** A real Alertmanager alert (kube-prometheus CPUThrottlingHigh); its description then made longer than Opsgenie holds. */
  const alert = JSON.parse(readFileSync('/work/shared/fixtures/alertmanager/prom2teams_k8s_resolved_with_common_items.json', 'utf8')).alerts[0];
  const original = `${alert.annotations.message} `.repeat(150); // about 21,000 characters as sent
  const ingestCut = (text: string, max: number) => {
    for (let keep = max; ; keep--) {
      const mark = `…[cut: ${(text.length - keep).toLocaleString('en-US')} characters]`;
      if (keep + mark.length <= max) return { text: text.slice(0, keep) + mark, removed: text.length - keep };
    }
  };
  const MARK = /…\[cut: ([\d,]+) characters\]\n\n/;
  const links = [{ title: 'Prometheus', url: alert.generatorURL as string }, { title: 'Runbook', url: alert.annotations.runbook_url as string }];

  test('a description ingest cut to 15,000: labels and links kept whole, the mark counts everything not sent', () => {
    const cut = ingestCut(original, PAGER_LIMITS.description);
    const d = pagerDescription({ description: cut.text, labels: alert.labels, links, severity: 'warning', source: 'alertmanager', cut: [{ field: 'description', characters: cut.removed }] });
    expect([...d].length).toBeLessThanOrEqual(PAGER_LIMITS.description);
    for (const [k, v] of Object.entries(alert.labels)) expect(d).toContain(`- ${k}=${v}`);
    expect(d).toContain(`- Prometheus: ${alert.generatorURL}`);
    expect(d.endsWith(`- Runbook: ${alert.annotations.runbook_url}`)).toBe(true);
    const m = MARK.exec(d)!;
    const head = d.slice(0, m.index);
    expect(original.startsWith(head)).toBe(true);
    expect(Number(m[1]!.replace(/,/g, ''))).toBe(original.length - head.length);
  });

  test('labels past their share are cut themselves, and the description still gets the rest', () => {
    const labels = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`pod_${i}`, alert.labels.pod_name.repeat(4)]));
    const d = pagerDescription({ description: original, labels, links, severity: 'warning', source: 'alertmanager' });
    expect([...d].length).toBeLessThanOrEqual(PAGER_LIMITS.description);
    expect(d).toContain('Severity: warning\nSource: alertmanager\n\nLabels:\n- pod_0=');
    expect(d).toMatch(/…\[cut: [\d,]+ characters\]$/);
    expect(MARK.exec(d)!.index).toBeGreaterThanOrEqual(PAGER_LIMITS.description - PAGER_FACTS_MAX - 100);
  });

  test('no description: the labels may take the whole description, cut with the mark past it', () => {
    const labels = Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`pod_${i}`, alert.labels.pod_name.repeat(4)]));
    const d = pagerDescription({ labels, links, severity: 'warning', source: 'alertmanager' });
    expect([...d].length).toBeLessThanOrEqual(PAGER_LIMITS.description);
    expect([...d].length).toBeGreaterThan(PAGER_LIMITS.description - 100);
    expect(d).toMatch(/…\[cut: [\d,]+ characters\]$/);
  });

  test('a description that fits is sent whole; words like the mark that ingest did not write are the alert\'s own', () => {
    const own = `${alert.annotations.message} …[cut: 5 characters]`;
    const d = pagerDescription({ description: own, labels: alert.labels, links, severity: 'warning', source: 'alertmanager' });
    expect(d.startsWith(`${own}\n\nSeverity: warning`)).toBe(true);
  });
});

describe('pagerDescription: Grafana\'s measured values come before the labels', () => {
  /** A real Grafana 11 alert (play.grafana.org): values A=2473545728, B=0, C=1, minute=9. */
  const grafana = JSON.parse(readFileSync('/work/shared/fixtures/grafana/zulip_firing_values_imageURL_v11.json', 'utf8')).alerts[0];
  const links = [{ title: 'Source', url: grafana.generatorURL as string }];

  test('the values as sent, on their own line after the source and before the labels', () => {
    const d = pagerDescription({ values: grafana.values, labels: grafana.labels, links, severity: 'unknown', source: 'grafana' });
    expect(d).toBe(
      'Severity: unknown\nSource: grafana\nValues: A=2473545728, B=0, C=1, minute=9\n\n' +
        'Labels:\n- alertname=Memory (copy)\n- debug=true\n- grafana_folder=device\n\n' +
        `Links:\n- Source: ${grafana.generatorURL}`,
    );
  });

  test('no values (any other source, or an event from before): the description is as it was', () => {
    const d = pagerDescription({ labels: grafana.labels, links, severity: 'unknown', source: 'grafana' });
    expect(d.startsWith('Severity: unknown\nSource: grafana\n\nLabels:\n')).toBe(true);
    expect(d).not.toContain('Values');
  });

  test('bounded: at most 20 values, a long name cut, one line however the names are written', () => {
    const values = Object.fromEntries([[`a\nb ${'x'.repeat(300)}`, null], ...Array.from({ length: 99 }, (_, i) => [`Q${i}`, i / 3])]);
    const d = pagerDescription({ values, labels: {}, links: [], severity: 'critical', source: 'grafana' });
    const line = d.split('\n')[2]!;
    expect(line.startsWith('Values: a b xxx')).toBe(true);
    expect(line).toContain('…=null, Q0=0, Q1=0.3333333333333333');
    expect(line.endsWith('Q18=6, … (+80 more)')).toBe(true);
    expect([...line].length).toBeLessThan(600);
  });
});
