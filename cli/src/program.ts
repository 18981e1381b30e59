import { Command } from 'commander';
import { registerCommands } from './commands';

/** Builds the `alertbus` program; separate from main so tests can run commands in-process. */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('alertbus')
    .description('alertbus: query incidents, audit and replay the Kafka log, test and backtest routing rules')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  registerCommands(program);
  return program;
}
