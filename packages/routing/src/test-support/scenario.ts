import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AnyEnvelope } from '@alertbus/schemas';
import { compileRules } from '../rules/compile';
import type { CompiledRules } from '../rules/types';

export const testdataPath = (name: string) => path.resolve(__dirname, '../../testdata', name);

/** Compiles a rules file from testdata/, failing the test with its problems when it does not compile. */
export function rulesFrom(name: string): CompiledRules {
  const file = testdataPath(name);
  const r = compileRules(readFileSync(file), file, { defaultChannel: '#alerts' });
  if (!r.ok) throw new Error(r.message);
  return r.rules;
}

/** One line per output, enough to read a decision at a glance: type, then reason / purpose / channel / priority. */
export function brief(e: AnyEnvelope): string {
  const d = e.data as { reason?: string; purpose?: string; channel?: string; priority?: string };
  switch (e.type) {
    case 'PostSlackMessage':
      return `${e.type}:${d.purpose}:${d.channel}`;
    case 'CreatePagerAlert':
    case 'UpdatePagerPriority':
      return `${e.type}:${d.priority}`;
    default:
      return d.reason ? `${e.type}:${d.reason}` : e.type;
  }
}
