/** Writes the contract's JSON Schema documents into schemas/json/ (see json-schemas.ts): `npm run generate -w schemas`. */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { jsonSchemaDocuments } from './json-schemas';

const out = join(__dirname, '..', 'json');
rmSync(out, { recursive: true, force: true });
const docs = jsonSchemaDocuments();
for (const [name, doc] of Object.entries(docs)) {
  const file = join(out, name);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
}
process.stdout.write(`wrote ${Object.keys(docs).length} JSON Schema documents into ${out}\n`);
