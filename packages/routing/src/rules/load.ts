import { readFileSync } from 'node:fs';
import { builtinRules, compileRules, type CompileOptions } from './compile';
import type { CompiledRules } from './types';

/** Thrown at start when the rules file is missing or invalid; the message lists every problem with its line. */
export class RulesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RulesError';
  }
}

/** Reads and compiles ROUTING_RULES, or returns the built-in defaults when no path is given. */
export function loadRules(path: string | undefined, opts: CompileOptions): CompiledRules {
  if (!path) return builtinRules(opts);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new RulesError(`cannot read routing rules ${path}: ${(err as Error).message}`);
  }
  const result = compileRules(bytes, path, opts);
  if (!result.ok) throw new RulesError(`invalid routing rules:\n${result.message}`);
  return result.rules;
}
