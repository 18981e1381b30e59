import type { Command } from 'commander';
import { registerAudit } from './audit';
import { registerDeadLetter } from './deadletter';
import { registerHistory } from './history';
import { registerIncidents } from './incidents';
import { registerNotify } from './notify';
import { registerReplay } from './replay';
import { registerRules } from './rules';
import { registerRun } from './run';
import { registerServe } from './serve';
import { registerSilence } from './silence';
import { registerSuppressed } from './suppressed';

/** Each command group registers itself here; one line per group. */
export function registerCommands(program: Command): void {
  void program;
  registerIncidents(program);
  registerHistory(program);
  registerReplay(program);
  registerAudit(program);
  registerSilence(program);
  registerSuppressed(program);
  registerRules(program);
  registerDeadLetter(program);
  registerNotify(program);
  registerRun(program);
  registerServe(program);
}
