/**
 * The contract's JSON Schema documents in schemas/json/ (for producers and consumers in other languages): current with
 * the TypeBox schemas the code validates with, each a valid draft-07 schema, and accepting what the code accepts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { jsonSchemaDocuments } from './json-schemas';
import { validateEnvelope } from './validate';
import { suppressed } from './test-support/suppressed';

const dir = join(__dirname, '..', 'json');
const filesIn = (d: string): string[] =>
  readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesIn(join(d, e.name)) : [relative(dir, join(d, e.name))]));
const docs = jsonSchemaDocuments();

test('schemas/json holds exactly the documents the TypeBox schemas give (else: npm run generate -w schemas)', () => {
  expect(filesIn(dir).sort()).toEqual(Object.keys(docs).sort());
  for (const [name, doc] of Object.entries(docs)) {
    expect([name, JSON.parse(readFileSync(join(dir, name), 'utf8'))]).toEqual([name, JSON.parse(JSON.stringify(doc))]);
  }
});

describe('read with a plain JSON Schema validator, as another language would', () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const compiled = (name: string) => ajv.compile(JSON.parse(readFileSync(join(dir, name), 'utf8')));

  test('every document compiles', () => {
    for (const name of Object.keys(docs)) expect(() => compiled(name)).not.toThrow();
  });

  test('an event the code accepts is accepted by its type\'s document and the envelope; one the code refuses is refused', () => {
    const own = compiled('events/EventSuppressed.schema.json');
    const envelope = compiled('envelope.schema.json');
    expect(validateEnvelope(suppressed).ok).toBe(true);
    expect(own(suppressed)).toBe(true);
    expect(envelope(suppressed)).toBe(true);
    const bad = { ...suppressed, data: { ...suppressed.data, reason: 'no such reason' } };
    expect(validateEnvelope(bad).ok).toBe(false);
    expect(own(bad)).toBe(false);
    // Another type's document refuses it: its `type` is that document's constant.
    expect(compiled('events/IncidentOpened.schema.json')(suppressed)).toBe(false);
  });

  test('the rules document takes the example rules file', () => {
    const rules = compiled('rules.schema.json');
    expect(rules({ defaults: { slack: { channel: '#alerts' } }, rules: [{ name: 'db', match: ['team="db"'], slack: { channel: '#db' } }] })).toBe(true);
    expect(rules({ defaults: { slak: {} } })).toBe(false);
  });
});
