import { fixture } from '../../../../test/support/fixtures';
import type { AlertmanagerPayload } from '../payloads/alertmanager';
import { normaliseAlertmanager } from './alertmanager';
import { labelHash } from './alias';
import { TEXT_LIMITS, boundAlertText, cutJsonStrings, cutText } from './bounds';
import { normaliseGeneric } from './generic';

const points = (s: string) => Array.from(s).length;
const wellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

describe('cutText', () => {
  test('a text within its bound is the same text, nothing said', () => {
    expect(cutText('disk full', 9)).toEqual({ text: 'disk full', removed: 0 });
    expect(cutText('🔥'.repeat(10), 10)).toEqual({ text: '🔥'.repeat(10), removed: 0 }); // 20 UTF-16 units, 10 characters
  });

  test('a longer text keeps its start, ends with the mark, and stays within the bound, mark included', () => {
    const out = cutText('x'.repeat(527_345), 15_000);
    expect(out.text).toBe(`${'x'.repeat(15_000 - 26)}…[cut: 512,371 characters]`);
    expect(out.removed).toBe(512_371);
    expect(points(out.text)).toBeLessThanOrEqual(15_000);
  });

  test('the cut counts characters, not UTF-16 units, and never splits an emoji', () => {
    const text = `a${'🔥'.repeat(100)}`;
    for (let max = 25; max <= 60; max++) {
      const out = cutText(text, max);
      expect(wellFormed(out.text)).toBe(true);
      expect(points(out.text)).toBeLessThanOrEqual(max);
      const kept = out.text.replace(/…\[cut: \d+ characters\]$/, '');
      expect(text.startsWith(kept)).toBe(true);
      expect(points(kept) + out.removed).toBe(101);
    }
  });

  test('cutting a cut text again gives what cutting the original to the smaller bound gives', () => {
    const original = 'é🔥x'.repeat(10_000);
    const once = cutText(original, 15_000);
    for (const bound of [8_000, 4_000, 100]) {
      expect(cutText(once.text, bound, once.removed)).toEqual(cutText(original, bound));
    }
    // A bound the cut text already fits changes nothing.
    expect(cutText(once.text, 20_000, once.removed)).toEqual(once);
  });
});

describe('boundAlertText', () => {
  const group = () => fixture<AlertmanagerPayload>('alertmanager/zulip_firing_two_alerts.json');

  test('an alert within every bound is returned as it is: no copy, no cut field', () => {
    const r = normaliseAlertmanager(group());
    if (!r.ok) throw new Error(r.message);
    for (const a of r.alerts) {
      expect(a.data.cut).toBeUndefined();
      expect(boundAlertText(a.data)).toBe(a.data);
    }
  });

  test('a long description, annotation, summary and label value are cut and listed; the alias is made from the labels as sent', () => {
    const payload = group();
    const alert = payload.alerts[1]!;
    alert.annotations = { ...alert.annotations, description: 'd'.repeat(20_000), summary: 's'.repeat(3_500), runbook_url: 'https://runbooks/x' };
    alert.labels = { ...alert.labels, trace: 't'.repeat(2_500) };
    delete (alert as { fingerprint?: string }).fingerprint;
    const whole = JSON.parse(JSON.stringify(alert)) as typeof alert;
    const r = normaliseAlertmanager(payload);
    if (!r.ok) throw new Error(r.message);
    const [first, second] = r.alerts;
    expect(first!.data.cut).toBeUndefined();
    const d = second!.data;
    expect(points(d.title)).toBeLessThanOrEqual(TEXT_LIMITS.title);
    expect(points(d.description!)).toBeLessThanOrEqual(TEXT_LIMITS.description);
    expect(d.annotations.description).toBe(d.description);
    expect(d.annotations.summary).toBe(whole.annotations!.summary); // within an annotation's bound
    expect(points(d.labels.trace!)).toBeLessThanOrEqual(TEXT_LIMITS.label);
    expect(d.cut).toEqual([
      { field: 'title', characters: 524 },
      { field: 'description', characters: 5_025 },
      { field: 'annotations.description', characters: 5_025 },
      { field: 'labels.trace', characters: 524 },
    ]);
    // raw is the alert as sent: ingest decides what of it fits a record.
    expect(d.raw).toEqual(whole);
    expect(second!.alias).toBe(`alertmanager:${labelHash(whole.labels)}`);
    expect(second!.alias).not.toBe(`alertmanager:${labelHash(d.labels)}`);
    // The same payload, the same alert.
    const again = normaliseAlertmanager(JSON.parse(JSON.stringify(payload)) as AlertmanagerPayload);
    expect(again).toEqual(r);
  });

  test('a tighter bound cuts further and adds to what was cut, as cutting the original would', () => {
    const r = normaliseGeneric({ title: 'Backup failed', description: 'b'.repeat(40_000), annotations: { log: 'l'.repeat(9_000), note: 'short' } });
    if (!r.ok) throw new Error(r.message);
    const d = r.alerts[0]!.data;
    expect(d.cut).toEqual([{ field: 'description', characters: 25_025 }]);
    const tighter = boundAlertText(d, 1_000);
    expect(tighter.cut).toEqual([
      { field: 'description', characters: 39_025 },
      { field: 'annotations.log', characters: 8_024 },
    ]);
    expect(tighter.description).toBe(cutText('b'.repeat(40_000), 1_000).text);
    expect(tighter.annotations).toEqual({ log: cutText('l'.repeat(9_000), 1_000).text, note: 'short' });
    expect(tighter.title).toBe('Backup failed');
    expect(Object.keys(tighter)).toEqual([...Object.keys(d).filter((k) => k !== 'raw' && k !== 'cut'), 'cut', 'raw']);
  });
});

describe('cutJsonStrings', () => {
  test('long strings anywhere in the value are cut, keys and short strings kept, untouched parts the same objects', () => {
    const untouched = { a: ['x', 1, null] };
    const value = { untouched, list: ['y'.repeat(300), 'z'], nested: { ['k'.repeat(300)]: 'v'.repeat(250) } };
    const out = cutJsonStrings(value, 200);
    expect(out.removed).toBe(300 - 178 + (250 - 178)); // 178 kept of each, beside a 22-character mark
    const v = out.value as typeof value;
    expect(v.untouched).toBe(untouched);
    expect(v.list).toEqual([cutText('y'.repeat(300), 200).text, 'z']);
    expect(Object.keys(v.nested)).toEqual(['k'.repeat(300)]);
    expect(value.list[0]).toHaveLength(300); // the input is not changed
    expect(cutJsonStrings(untouched, 200)).toEqual({ value: untouched, removed: 0 });
  });
});
