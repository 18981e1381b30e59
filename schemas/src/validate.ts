import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { quickDateTime } from './date-time';
import { EVENT_TYPES, type EventType } from './events';
import { EnvelopeSchema, type AnyEnvelope } from './envelope';

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
// The same answers as ajv-formats' date-time, decided by character codes for the form producers write.
const fullDateTime = ajv.formats['date-time'] as { validate: (s: string) => boolean; compare?: (a: string, b: string) => number | undefined };
ajv.addFormat('date-time', { ...fullDateTime, validate: quickDateTime(fullDateTime.validate) });

const envelopeValidator = ajv.compile(EnvelopeSchema);
const dataValidators = new Map<string, ValidateFunction>(
  Object.entries(EVENT_TYPES).map(([type, spec]) => [type, ajv.compile(spec.data)]),
);

export type ValidationResult = { ok: true; event: AnyEnvelope } | { ok: false; error: string };

function describe(errors: ErrorObject[] | null | undefined, prefix: string): string {
  return (errors ?? [])
    .slice(0, 5)
    .map((e) => {
      const where = `${prefix}${e.instancePath || ''}` || '/';
      if (e.keyword === 'additionalProperties') {
        return `${where}: unknown property "${(e.params as { additionalProperty: string }).additionalProperty}"`;
      }
      return `${where}: ${e.message ?? 'invalid'}`;
    })
    .join('; ');
}

/** Checks an envelope and its data against the schemas; with a topic, also that the type belongs there. */
export function validateEnvelope(value: unknown, topic?: string): ValidationResult {
  if (!envelopeValidator(value)) {
    return { ok: false, error: `envelope invalid: ${describe(envelopeValidator.errors, '')}` };
  }
  const env = value as AnyEnvelope;
  const spec = EVENT_TYPES[env.type as EventType];
  if (topic !== undefined && spec.topic !== topic) {
    return { ok: false, error: `event type ${env.type} does not belong on topic ${topic} (it belongs on ${spec.topic})` };
  }
  const validateData = dataValidators.get(env.type)!;
  if (!validateData(env.data)) {
    return { ok: false, error: `${env.type} data invalid: ${describe(validateData.errors, '/data')}` };
  }
  return { ok: true, event: env };
}

/** Decodes a record value (JSON bytes) and validates it. */
export function decodeEnvelope(value: Buffer | string | null, topic?: string): ValidationResult {
  if (value === null) return { ok: false, error: 'record has no value (tombstone) where an event was expected' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (err) {
    return { ok: false, error: `value is not JSON: ${(err as Error).message}` };
  }
  return validateEnvelope(parsed, topic);
}

/** Throws when an event a producer is about to write does not match its schema: a bug, never input. */
export function assertValid(event: AnyEnvelope): void {
  const r = validateEnvelope(event);
  if (!r.ok) throw new Error(`refusing to produce an invalid event ${event.type} ${event.id}: ${r.error}`);
}

export { ajv as schemaAjv };
