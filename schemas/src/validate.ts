import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { quickDateTime } from './date-time';
import { EVENT_TYPES, type EventType } from './events';
import { EnvelopeSchema, type AnyEnvelope } from './envelope';
import { jsonErrorWithoutExcerpt } from './json-error';

/** An Ajv with the project's formats; `allErrors` for the messages, without it to decide validity alone. */
function makeAjv(allErrors: boolean): Ajv {
  const made = new Ajv({ allErrors, strict: false });
  addFormats(made);
  // The same answers as ajv-formats' date-time, decided by character codes for the form producers write.
  const fullDateTime = made.formats['date-time'] as { validate: (s: string) => boolean; compare?: (a: string, b: string) => number | undefined };
  made.addFormat('date-time', { ...fullDateTime, validate: quickDateTime(fullDateTime.validate) });
  return made;
}

const ajv = makeAjv(true);
/** Decides validity only: stops at a value's first error, and at a union branch's first. */
const validityAjv = makeAjv(false);

const PRIMITIVE_TYPES = new Set(['string', 'number', 'boolean']);
/** A TypeBox literal: `{ const, type }` and nothing else, the constant of that type. */
const isLiteral = (b: unknown): b is { const: string | number | boolean } =>
  b !== null &&
  typeof b === 'object' &&
  Object.keys(b).every((k) => k === 'const' || k === 'type') &&
  'const' in b &&
  (!('type' in b) || (PRIMITIVE_TYPES.has((b as { type: unknown }).type as string) && typeof b.const === (b as { type: unknown }).type));
/** A bare type: `{ type }` and nothing else (TypeBox's String(), Null()…). */
const isBareType = (b: unknown): b is { type: string } =>
  b !== null && typeof b === 'object' && Object.keys(b).length === 1 && typeof (b as { type?: unknown }).type === 'string';

/**
 * The same schema, accepting exactly the same values, with every `anyOf` of literals written as an `enum` and every
 * `anyOf` of bare types as a list of types. With `allErrors`, Ajv builds an error object (and its message) for each
 * branch of an `anyOf` that does not match before one does, valid value or not: an envelope's `type` is a union of
 * every event type, a decision's `reason` one of a dozen, so a valid event made tens of them each time it was checked.
 */
export function withFlatUnions(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withFlatUnions);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = withFlatUnions(v);
  const branches = out.anyOf;
  if (!Array.isArray(branches) || branches.length === 0) return out;
  if (branches.every(isLiteral) && !('enum' in out)) {
    delete out.anyOf;
    out.enum = branches.map((b) => b.const);
  } else if (branches.every(isBareType) && !('type' in out)) {
    delete out.anyOf;
    out.type = [...new Set(branches.map((b) => b.type))];
  }
  return out;
}

/**
 * A validator that decides with the flattened schema, stopping at the first error, and only for a value it refuses
 * takes the errors of the schema as written with every error (compiled on first need): the same answers and the same
 * error messages as before. Deciding with every error, Ajv also builds an error object for each failed check of each
 * union branch tried before the one that matches (an incident's `suppressedBy` is a union of objects).
 */
function compileChecked(schema: object): ValidateFunction {
  const fast = validityAjv.compile(withFlatUnions(schema) as object);
  let explain: ValidateFunction | undefined;
  const validate = ((value: unknown) => {
    if (fast(value)) {
      validate.errors = null;
      return true;
    }
    explain ??= ajv.compile(schema);
    validate.errors = explain(value) ? fast.errors : explain.errors;
    return false;
  }) as ValidateFunction;
  validate.errors = null;
  return validate;
}

const envelopeValidator = compileChecked(EnvelopeSchema);
/**
 * Each event type's data validator, compiled the first time an event of that type is checked: a service checks the
 * few types it reads and writes, and compiling all of them took a fifth of a service's start.
 */
const dataValidators = new Map<string, ValidateFunction>();
function dataValidator(type: EventType): ValidateFunction {
  let validate = dataValidators.get(type);
  if (validate === undefined) dataValidators.set(type, (validate = compileChecked(EVENT_TYPES[type].data)));
  return validate;
}

/**
 * `ignored`: the properties the schemas do not know that a reader left out of `event` (see `readTolerantly`), when
 * there were any.
 */
export type ValidationResult = { ok: true; event: AnyEnvelope; ignored?: string[] } | { ok: false; error: string };

/** Validity alone, of a part of a schema (a union's branch), compiled when first needed. */
const branchValidators = new WeakMap<object, ValidateFunction>();
function branchValid(schema: object, value: unknown): boolean {
  let validate = branchValidators.get(schema);
  if (validate === undefined) branchValidators.set(schema, (validate = validityAjv.compile(withFlatUnions(schema) as object)));
  return validate(value);
}

type SchemaNode = {
  type?: unknown;
  properties?: Record<string, object>;
  additionalProperties?: unknown;
  items?: unknown;
  anyOf?: object[];
};

/**
 * A copy of `value` without the object properties `schema` does not define where it admits no others, and the
 * paths of those it left out. In a union, the first branch the copy then matches. The value itself is not changed.
 */
function withoutUnknown(schema: object, value: unknown, path: string, left: string[]): unknown {
  const s = schema as SchemaNode;
  if (Array.isArray(s.anyOf)) {
    for (const branch of s.anyOf) {
      const leftHere: string[] = [];
      const copy = withoutUnknown(branch, value, path, leftHere);
      if (branchValid(branch, copy)) {
        left.push(...leftHere);
        return copy;
      }
    }
    return value;
  }
  if (Array.isArray(value)) {
    const items = s.items;
    if (items === null || typeof items !== 'object' || Array.isArray(items)) return value;
    return value.map((v, i) => withoutUnknown(items, v, `${path}/${i}`, left));
  }
  if (value === null || typeof value !== 'object' || s.properties === undefined) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const known = Object.hasOwn(s.properties, key) ? s.properties[key] : undefined;
    if (known !== undefined) out[key] = withoutUnknown(known, v, `${path}/${key}`, left);
    else if (s.additionalProperties === false) left.push(`${path}/${key}`);
    else out[key] = v;
  }
  return out;
}

/**
 * Reads a value a later alertbus may have written, as a tolerant reader: when `strict` refuses it, the same value
 * without the properties the schema does not know is tried. Writers stay strict (`assertValid`), so such properties
 * come from a newer version (a rollback reads what it wrote), and an event or a state is not lost over a field this
 * version cannot use. A value that is wrong in any other way is still refused, with `strict`'s errors.
 */
export function readTolerantly(schema: object, value: unknown, path = ''): { ok: true; value: unknown; ignored: string[] } | { ok: false } {
  const ignored: string[] = [];
  const copy = withoutUnknown(schema, value, path, ignored);
  return ignored.length > 0 && branchValid(schema, copy) ? { ok: true, value: copy, ignored } : { ok: false };
}

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
  const validateData = dataValidator(env.type);
  if (!validateData(env.data)) {
    return { ok: false, error: `${env.type} data invalid: ${describe(validateData.errors, '/data')}` };
  }
  return { ok: true, event: env };
}

/**
 * Decodes a record value (JSON bytes) and validates it, reading tolerantly (`readTolerantly`): properties the schemas
 * do not know, in the envelope or its data, are left out and named in `ignored`.
 */
export function decodeEnvelope(value: Buffer | string | null, topic?: string): ValidationResult {
  if (value === null) return { ok: false, error: 'record has no value (tombstone) where an event was expected' };
  let parsed: unknown;
  const text = typeof value === 'string' ? value : value.toString('utf8');
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // Not the excerpt V8 quotes: the reason goes to logs and to the dead letter's attempts, the record may hold a secret.
    return { ok: false, error: `value is not JSON: ${jsonErrorWithoutExcerpt((err as Error).message, text)}` };
  }
  const strict = validateEnvelope(parsed, topic);
  if (strict.ok) return strict;
  const envelope = readTolerantly(EnvelopeSchema, parsed);
  const candidate = (envelope.ok ? envelope.value : parsed) as { type?: unknown; data?: unknown };
  const spec = typeof candidate?.type === 'string' && Object.hasOwn(EVENT_TYPES, candidate.type) ? EVENT_TYPES[candidate.type as EventType] : undefined;
  const data = spec === undefined ? { ok: false as const } : readTolerantly(spec.data, candidate.data, '/data');
  if (!envelope.ok && !data.ok) return strict;
  const cleaned = data.ok ? { ...candidate, data: data.value } : candidate;
  const read = validateEnvelope(cleaned, topic);
  if (!read.ok) return strict;
  const ignored = [...(envelope.ok ? envelope.ignored : []), ...(data.ok ? data.ignored : [])];
  reportIgnored(read.event.type, ignored);
  return { ok: true, event: read.event, ignored };
}

let ignoredReporter: ((what: string, ignored: string[]) => void) | undefined;
const reportedIgnored = new Set<string>();
const REPORTED_IGNORED_MAX = 1000;

/**
 * Calls `report` the first time a process reads (`decodeEnvelope`, `readTolerantly` callers) a kind of record whose
 * properties it does not know, with those properties' paths: one line per kind and set of paths, not per record.
 */
export function whenPropertiesIgnored(report: (what: string, ignored: string[]) => void): void {
  ignoredReporter = report;
}

/** Tells the reporter of `whenPropertiesIgnored`, once per kind of record and set of paths. */
export function reportIgnored(what: string, ignored: readonly string[]): void {
  if (ignoredReporter === undefined || ignored.length === 0) return;
  const key = `${what} ${ignored.map((p) => p.replace(/\/\d+(?=\/|$)/g, '/*')).join(' ')}`;
  if (reportedIgnored.has(key) || reportedIgnored.size >= REPORTED_IGNORED_MAX) return;
  reportedIgnored.add(key);
  ignoredReporter(what, [...ignored]);
}

/** Throws when an event a producer is about to write does not match its schema: a bug, never input. */
export function assertValid(event: AnyEnvelope): void {
  const r = validateEnvelope(event);
  if (!r.ok) throw new Error(`refusing to produce an invalid event ${event.type} ${event.id}: ${r.error}`);
}

export { ajv as schemaAjv };
