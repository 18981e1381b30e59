import { Type } from '@sinclair/typebox';
import { EVENT_TYPES, type EventType } from './events';
import { topicOf } from './envelope';
import { AliasState } from './router-state';
import { decodeEnvelope, readTolerantly, reportIgnored, validateEnvelope, whenPropertiesIgnored, withFlatUnions } from './validate';
import { suppressed } from './test-support/suppressed';

const errorOf = (value: unknown) => {
  const r = validateEnvelope(value);
  return r.ok ? 'ok' : r.error;
};

describe('withFlatUnions', () => {
  it('writes a union of literals as an enum and a union of bare types as a list of types, keeping the rest', () => {
    const schema = Type.Object({
      status: Type.Union([Type.Literal('firing'), Type.Literal('resolved')], { description: 'd' }),
      causationId: Type.Union([Type.String(), Type.Null()]),
      mixed: Type.Union([Type.Literal('a'), Type.Number()]),
    });
    const flat = withFlatUnions(schema) as { properties: Record<string, Record<string, unknown>> };
    expect(flat.properties.status).toEqual({ enum: ['firing', 'resolved'], description: 'd' });
    expect(flat.properties.causationId).toEqual({ type: ['string', 'null'] });
    expect(flat.properties.mixed!.anyOf).toHaveLength(2);
  });
});

describe('validateEnvelope', () => {
  it('accepts valid events, a null causation included', () => {
    expect(errorOf(suppressed)).toBe('ok');
    expect(errorOf({ ...suppressed, causationId: null })).toBe('ok');
    expect(errorOf({ ...suppressed, data: { ...suppressed.data, reason: 'first-notification' } })).toBe('ok');
  });

  // The messages are those of the schemas as written (allErrors, every branch of a union), whatever checks validity.
  it.each([
    ['an unknown type', { ...suppressed, type: 'NoSuchEvent' }, `envelope invalid: ${Array(5).fill('/type: must be equal to constant').join('; ')}`],
    ['another version', { ...suppressed, version: 2 }, 'envelope invalid: /version: must be equal to constant'],
    ['a causation that is a number', { ...suppressed, causationId: 7 }, 'envelope invalid: /causationId: must be string; /causationId: must be null; /causationId: must match a schema in anyOf'],
    ['an unknown reason', { ...suppressed, data: { ...suppressed.data, reason: 'because' } }, `EventSuppressed data invalid: ${Array(5).fill('/data/reason: must be equal to constant').join('; ')}`],
    [
      'a reason that is a number',
      { ...suppressed, data: { ...suppressed.data, reason: 3 } },
      'EventSuppressed data invalid: /data/reason: must be string; /data/reason: must be equal to constant; /data/reason: must be string; /data/reason: must be equal to constant; /data/reason: must be string',
    ],
  ])('refuses %s with the same message as before', (_what, value, message) => {
    expect(errorOf(value)).toBe(message);
    expect(errorOf(value)).toBe(message); // the validator that explains is compiled once, then reused
  });

  it('decodes and refuses a record the same way', () => {
    const r = decodeEnvelope(Buffer.from(JSON.stringify({ ...suppressed, type: 'Nope' })), 'incidents.v1');
    expect(r).toEqual({ ok: false, error: `envelope invalid: ${Array(5).fill('/type: must be equal to constant').join('; ')}` });
  });
});

describe('decodeEnvelope: a record that is not JSON', () => {
  it.each([
    ['a short text', 'token=xoxb-1-2'],
    ['a long one, cut mid-way', `{"a": 1, "secret": hunter2-is-the-password-here, ${'x'.repeat(100)}`],
    ['a long one, cut at its end', `${'{"a": 1, '.repeat(10)}"secret": hunter2pw`],
  ])('%s: says where it stopped being JSON, not what it held (the reason goes to logs and dead letters)', (_what, text) => {
    const r = decodeEnvelope(Buffer.from(text));
    expect(r.ok).toBe(false);
    const error = (r as { error: string }).error;
    expect(error).toMatch(/^value is not JSON: [^"]* in JSON( at position \d+)?$/);
    expect(error).not.toMatch(/xoxb|hunter2/);
  });
});

describe("every event type's schema (compiled when first used)", () => {
  it.each(Object.keys(EVENT_TYPES) as EventType[])('%s compiles and judges its data', (type) => {
    const event = { ...suppressed, type, data: { unknownField: 1 } };
    const r = validateEnvelope(event);
    // Each type's data schema is closed or requires something: data of one unknown field is refused, naming the data.
    expect(r).toEqual({ ok: false, error: expect.stringMatching(new RegExp(`^${type} data invalid: /data`)) });
  });
});

describe('decodeEnvelope: a record a newer version wrote (a tolerant reader)', () => {
  const bySilence = { kind: 'silence', silenceId: 's1', comment: 'deploy' };
  const newer = {
    ...suppressed,
    traceId: 't-1',
    data: { ...suppressed.data, weight: 3, rule: { ...suppressed.data.rule, order: 2 }, suppressedBy: { ...bySilence, scope: 'team' } },
  };

  it('reads it without the properties this version does not know, named in `ignored`', () => {
    const r = decodeEnvelope(Buffer.from(JSON.stringify(newer)), topicOf('EventSuppressed'));
    expect(r).toEqual({
      ok: true,
      event: { ...suppressed, data: { ...suppressed.data, suppressedBy: bySilence } },
      ignored: ['/traceId', '/data/rule/order', '/data/weight', '/data/suppressedBy/scope'],
    });
  });

  it('a writer still refuses them: they are a bug in this version', () => {
    expect(errorOf(newer)).toBe('envelope invalid: /: unknown property "traceId"');
    expect(errorOf({ ...suppressed, data: { ...suppressed.data, weight: 3 } })).toBe('EventSuppressed data invalid: /data: unknown property "weight"');
  });

  it.each([
    ['a known property wrong as well', { ...newer, data: { ...newer.data, reason: 'because' } }],
    ['another version', { ...newer, version: 2 }],
    ['an unknown type', { ...newer, type: 'NoSuchEvent' }],
    ['a union branch it does not know', { ...suppressed, data: { ...suppressed.data, suppressedBy: { kind: 'snooze', until: 'x' } } }],
  ])('still refuses one with %s, with the strict message', (_what, value) => {
    const r = decodeEnvelope(Buffer.from(JSON.stringify(value)), topicOf('EventSuppressed'));
    expect(r).toEqual(validateEnvelope(value, topicOf('EventSuppressed')));
    expect(r.ok).toBe(false);
  });

  it('says so once per kind of record and set of properties, not per record', () => {
    const said: Array<[string, string[]]> = [];
    whenPropertiesIgnored((what, ignored) => said.push([what, ignored]));
    try {
      for (let i = 0; i < 3; i++) decodeEnvelope(JSON.stringify({ ...suppressed, id: `e${i}`, traceId: `t${i}` }));
      decodeEnvelope(JSON.stringify({ ...suppressed, data: { ...suppressed.data, weight: 1 } }));
      reportIgnored('router state (incident)', ['/links/0/rank', '/links/1/rank']);
      reportIgnored('router state (incident)', ['/links/3/rank', '/links/4/rank']);
      expect(said).toEqual([
        ['EventSuppressed', ['/traceId']],
        ['EventSuppressed', ['/data/weight']],
        ['router state (incident)', ['/links/0/rank', '/links/1/rank']],
      ]);
    } finally {
      whenPropertiesIgnored(() => undefined);
    }
  });
});

describe('readTolerantly', () => {
  const state = {
    alias: 'a', incidentId: 'i', occurrence: 1, status: 'open', count: 1, title: 't', severity: 'critical', source: 'alertmanager',
    labels: {}, links: [{ title: 'runbook', url: 'https://example.com/r' }], openedAt: '2026-12-01T00:00:00.000Z',
    lastSeenAt: '2026-12-01T00:00:00.000Z', lastNotifiedAt: '2026-12-01T00:00:00.000Z', paged: true,
    rule: { path: 'default', rulesVersion: 'v' }, lastInputId: 'in',
  };

  it('leaves out unknown properties at any depth, in arrays too, without changing the value it was given', () => {
    const newer = { ...state, snoozedUntil: 'x', links: [{ ...state.links[0], rank: 1 }] };
    const copy = structuredClone(newer);
    expect(readTolerantly(AliasState, newer)).toEqual({ ok: true, value: state, ignored: ['/links/0/rank', '/snoozedUntil'] });
    expect(newer).toEqual(copy);
  });

  it('refuses a value with nothing to leave out, or still wrong without it', () => {
    expect(readTolerantly(AliasState, state)).toEqual({ ok: false });
    expect(readTolerantly(AliasState, { ...state, snoozedUntil: 'x', status: 'snoozed' })).toEqual({ ok: false });
    expect(readTolerantly(Type.Object({ a: Type.String() }), 'not an object')).toEqual({ ok: false });
  });
});
