/** Runs `alertbus …` in-process (as `npx alertbus` would, minus the process), capturing what it prints. */
import { CommanderError, type Command } from 'commander';
import { buildProgram } from '@alertbus/cli/src/program';

export interface CliRun {
  stdout: string;
  stderr: string;
  exitCode: number;
}

function throwInsteadOfExit(cmd: Command): void {
  cmd.exitOverride();
  cmd.configureOutput({ writeOut: (s) => void process.stdout.write(s), writeErr: (s) => void process.stderr.write(s) });
  for (const sub of cmd.commands) throwInsteadOfExit(sub);
}

export async function runCli(...args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const writeOut = process.stdout.write;
  const writeErr = process.stderr.write;
  process.stdout.write = ((chunk: unknown) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: unknown) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  const exitBefore = process.exitCode;
  process.exitCode = undefined;
  let exitCode = 0;
  try {
    const program = buildProgram();
    throwInsteadOfExit(program);
    await program.parseAsync(['node', 'alertbus', ...args]);
    exitCode = Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) exitCode = e.exitCode;
    else {
      err.push(`alertbus: ${(e as Error).message}\n`);
      exitCode = 1;
    }
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
    process.exitCode = exitBefore;
  }
  return { stdout: out.join(''), stderr: err.join(''), exitCode };
}
