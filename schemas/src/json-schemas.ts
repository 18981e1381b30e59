/**
 * The JSON Schema documents of the contract, for producers and consumers not written in TypeScript (DESIGN.md: one
 * JSON Schema, validated by producers and consumers alike): the envelope, each event type's envelope with its data,
 * and the rules file. Made from the TypeBox schemas the code validates with, so the two cannot disagree; written into
 * `schemas/json/` by `npm run generate -w schemas` (a test checks the files are current).
 */
import { EVENT_TYPES, type EventType } from './events';
import { EnvelopeSchema } from './envelope';
import { RulesFile } from './rules';
import { TOPIC_PREFIX } from './topics';

const DRAFT = 'http://json-schema.org/draft-07/schema#';

/** A TypeBox schema as plain JSON (TypeBox's symbol-keyed markers dropped), with the document's own keys first. */
function documentOf(title: string, schema: object, more: Record<string, unknown> = {}): object {
  const plain = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  delete plain.$id;
  delete plain.title;
  return { $schema: DRAFT, title, ...more, ...plain };
}

/** Every document, by its path under `schemas/json/`, in a stable order. */
export function jsonSchemaDocuments(): Record<string, object> {
  const docs: Record<string, object> = {};
  docs['envelope.schema.json'] = documentOf(
    'alertbus event envelope',
    EnvelopeSchema,
    { description: 'The envelope every record on every alertbus topic carries; `data` as the schema of its `type` (events/<type>.schema.json) says.' },
  );
  const envelope = JSON.parse(JSON.stringify(EnvelopeSchema)) as { properties: Record<string, unknown> };
  for (const type of Object.keys(EVENT_TYPES).sort() as EventType[]) {
    const { topic, data } = EVENT_TYPES[type];
    const name = `events/${type}.schema.json`;
    docs[name] = documentOf(
      `alertbus ${type}`,
      { ...envelope, properties: { ...envelope.properties, type: { const: type }, data } },
      { description: `The ${type} event, as written to ${topic.slice(TOPIC_PREFIX.length)} (after KAFKA_TOPIC_PREFIX, when one is set).` },
    );
  }
  docs['rules.schema.json'] = documentOf('alertbus routing rules', RulesFile, {
    description: 'The routing rules file (ROUTING_RULES), as `alertbus rules check` reads it.',
  });
  return docs;
}
