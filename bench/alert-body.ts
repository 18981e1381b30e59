/** One new Alertmanager webhook alert per number: the body the intake and latency benches send ingest. */
export function alertBody(i: number): string {
  return JSON.stringify({
    version: '4',
    status: 'firing',
    receiver: 'bench',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://am.example',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'Bench', severity: 'warning', instance: `host-${i}` },
        annotations: { summary: `bench alert ${i}` },
        startsAt: '2026-11-22T08:00:00Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prom.example/graph',
        fingerprint: `bench${i.toString(16).padStart(11, '0')}`,
      },
    ],
  });
}
