import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import type { TSchema } from '@sinclair/typebox';

/** The shared real-payload fixtures: `<repo>/../shared/fixtures`. */
export const FIXTURES_DIR = resolve(__dirname, '../../../shared/fixtures');

export function fixtureNames(dir: 'alertmanager' | 'grafana'): string[] {
  return readdirSync(resolve(FIXTURES_DIR, dir))
    .filter((f) => f.endsWith('.json'))
    .sort();
}

export function fixtureText(path: string): string {
  return readFileSync(resolve(FIXTURES_DIR, path), 'utf8');
}

export function fixture<T = unknown>(path: string): T {
  return JSON.parse(fixtureText(path)) as T;
}

/** Checks a body against a route's request schema with the same ajv settings the app uses (validate only). */
export function requestSchemaErrors(schema: TSchema, body: unknown): string | null {
  const ajv = new Ajv({ coerceTypes: false, useDefaults: false, removeAdditional: false, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  return validate(body) ? null : ajv.errorsText(validate.errors, { dataVar: 'body' });
}
