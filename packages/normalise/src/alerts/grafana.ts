import type { GrafanaAlert, GrafanaPayload } from '../payloads/grafana';
import { normaliseGroup } from './alert-group';
import type { NormaliseResult } from './result';

/** Grafana unified alerting → one AlertReceived per alert, keeping its values and its Grafana URLs. */
export function normaliseGrafana(payload: GrafanaPayload): NormaliseResult {
  const group = payload as GrafanaPayload & { version?: unknown; orgId?: unknown };
  // Alertmanager's webhook (version "4", no orgId), taken here, would be aliased `grafana:…`: a second incident beside
  // the one its own endpoint makes for the same alert.
  if (group.version === '4' && group.orgId === undefined) {
    return {
      ok: false,
      field: 'body/version',
      message: 'this is an Alertmanager webhook (version "4", no orgId), posted to /webhooks/grafana: set the receiver\'s url to /webhooks/alertmanager',
    };
  }
  return normaliseGroup<GrafanaAlert>(payload, {
    source: 'grafana',
    externalTitle: 'Grafana',
    extraLinks: (a) => [
      ['Dashboard', a.dashboardURL],
      ['Panel', a.panelURL],
      ['Silence', a.silenceURL],
      ['Image', a.imageURL],
    ],
    extraData: (a) => {
      const values = grafanaValues(a);
      return values ? { values } : {};
    },
  });
}

/** What of an alert's values the event keeps (raw has them all): Grafana sends one per query and expression, a few. */
export const VALUE_BOUNDS = { count: 50, name: 200, valueString: 20_000 } as const;

type Values = Record<string, number | null>;

/**
 * The alert's measured values: `values` as sent, else read from `valueString` (Grafana's templates may leave `values`
 * null and still fill it); undefined when neither holds any. At most VALUE_BOUNDS.count, names over VALUE_BOUNDS.name
 * left out.
 */
export function grafanaValues(alert: Pick<GrafanaAlert, 'values' | 'valueString'>): Values | undefined {
  const out: Values = {};
  let n = 0;
  const add = (name: string, value: number | null) => {
    if (n >= VALUE_BOUNDS.count || name.length > VALUE_BOUNDS.name || Object.hasOwn(out, name)) return;
    out[name] = value;
    n++;
  };
  if (alert.values && typeof alert.values === 'object') {
    for (const [name, value] of Object.entries(alert.values)) add(name, typeof value === 'number' && Number.isFinite(value) ? value : null);
  } else if (typeof alert.valueString === 'string') {
    for (const [name, value] of parseValueString(alert.valueString.slice(0, VALUE_BOUNDS.valueString))) add(name, value);
  }
  return n > 0 ? out : undefined;
}

/**
 * Grafana's valueString, `[ var='A' labels={instance=a:9100} value=2.47e+09 ], [ var='C' labels={} value=1 ]`, as
 * (name, value) pairs; a value that is no finite number (NaN, +Inf) as null. One pass: every search starts where the
 * previous one ended.
 */
export function* parseValueString(text: string): Generator<[string, number | null]> {
  let at = 0;
  for (;;) {
    const start = text.indexOf("var='", at);
    if (start < 0) return;
    const nameEnd = text.indexOf("'", start + 5);
    if (nameEnd < 0) return;
    const valueAt = text.indexOf(' value=', nameEnd);
    if (valueAt < 0) return;
    let end = valueAt + 7;
    while (end < text.length && text[end] !== ' ' && text[end] !== ']' && text[end] !== ',') end++;
    const raw = text.slice(valueAt + 7, end);
    const value = raw === '' ? NaN : Number(raw);
    yield [text.slice(start + 5, nameEnd), Number.isFinite(value) ? value : null];
    at = end;
  }
}
