/** Sum of a metric's samples (those with `labels` in their label set) in a service's Prometheus text at `baseUrl`/metrics. */
export async function metricSum(baseUrl: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name) && l.includes(labels))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}
