/**
 * Runs `alertbus …` as a user would: the CLI's own bin in a child process, with this test file's environment
 * (its topic prefix, database, KAFKA_BROKERS). Tests of a service drive the CLI this way, so no service's
 * code imports the CLI's.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export interface CliRun {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const BIN = resolve(__dirname, '../../cli/bin/alertbus.js');

export function runCli(...args: string[]): Promise<CliRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', fail);
    child.on('close', (code, signal) =>
      done({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        exitCode: code ?? (signal ? 128 : 1),
      }),
    );
  });
}
