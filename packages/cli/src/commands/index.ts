import type { Command } from 'commander';
import { registerRules } from './rules';

/** Each command group registers itself here; one line per group. */
export function registerCommands(program: Command): void {
  registerRules(program);
}
