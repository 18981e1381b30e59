import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { EnvelopeSchema, makeEnvelope, type AnyEnvelope } from './envelope';
import { EVENT_TYPES, type EventType } from './events';
import { TOPICS } from './topics';
import { validateEnvelope } from './validate';

/** The answer of the envelope's schema, then the topic, then the type's data schema, each on its own (the reference). */
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const envelope = ajv.compile(EnvelopeSchema);
const data = new Map(Object.entries(EVENT_TYPES).map(([type, spec]) => [type, ajv.compile(spec.data)]));
function reference(value: unknown, topic?: string): boolean {
  if (!envelope(value)) return false;
  const type = (value as AnyEnvelope).type;
  if (topic !== undefined && EVENT_TYPES[type].topic !== topic) return false;
  return data.get(type)!(( value as AnyEnvelope).data);
}

const base = {
  id: 'e1',
  alias: 'alertmanager:a',
  occurredAt: '2025-03-01T10:00:00.000Z',
  recordedAt: '2025-03-01T10:00:00.000Z',
  source: 'router',
  causationId: 'c1',
  correlationId: 'c1',
};
const rule = { path: 'rules[0]', rulesVersion: 'v1' };
const valid: AnyEnvelope[] = [
  makeEnvelope({ ...base, type: 'UpdateSlackMessage', data: { incidentId: '00000000-0000-8000-8000-000000000001', rule, text: 'storm', blocks: [{ type: 'section' }] } }) as AnyEnvelope,
  makeEnvelope({ ...base, type: 'ClosePagerAlert', data: { incidentId: '00000000-0000-8000-8000-000000000001', rule, note: 'Resolved at the source.' } }) as AnyEnvelope,
];

describe('validateEnvelope', () => {
  it('accepts and refuses what the envelope, topic and data schemas do on their own, and says why it refuses', () => {
    const cases: Array<[string, unknown, string | undefined]> = [];
    for (const e of valid) {
      const topic = EVENT_TYPES[e.type as EventType].topic;
      cases.push(
        ['valid', e, undefined],
        ['valid, on its topic', e, topic],
        ['on another topic', e, TOPICS.deadLetter],
        ['an unknown envelope field', { ...e, extra: 1 }, undefined],
        ['a bad time', { ...e, recordedAt: 'yesterday' }, undefined],
        ['a data field missing', { ...e, data: { ...e.data, rule: undefined } }, undefined],
        ['an unknown data field', { ...e, data: { ...e.data, extra: 1 } }, topic],
        ['no data', { ...e, data: undefined }, undefined],
        ['an unknown type', { ...e, type: 'Nope' }, undefined],
        ["an Object.prototype name as type", { ...e, type: 'constructor' }, undefined],
        ['another valid type, with data of this one', { ...e, type: e.type === 'ClosePagerAlert' ? 'UpdateSlackMessage' : 'ClosePagerAlert' }, undefined],
      );
    }
    cases.push(['not an object', 'text', undefined], ['null', null, undefined], ['an array', [valid[0]], undefined]);
    for (const [what, value, topic] of cases) {
      const clean = value === null || typeof value !== 'object' ? value : JSON.parse(JSON.stringify(value));
      const r = validateEnvelope(clean, topic);
      expect([what, r.ok]).toEqual([what, reference(clean, topic)]);
      if (!r.ok) expect(r.error).toMatch(/^(envelope invalid|event type .* does not belong on topic|\w+ data invalid)/);
    }
    expect(validateEnvelope(JSON.parse(JSON.stringify({ ...valid[1], data: { ...valid[1]!.data, note: 5 } })))).toEqual({
      ok: false,
      error: 'ClosePagerAlert data invalid: /data/note: must be string',
    });
  });
});
