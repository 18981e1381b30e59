/**
 * scripts/test-plan.test.ts runs this in a process of its own, as npm test runs scripts/test-run.ts, with stand-in
 * runs instead of jest: each run is a node process that prints its number and, like jest with its workers, starts a
 * process of its own.
 *   signal: a run that waits to be stopped, then one that would end at once;  codes A B C: runs that exit with those codes.
 */
import { GroupRunner, runAll } from './test-plan';

const RUN = `
const { spawn } = require('node:child_process');
const worker = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
console.log('run ' + process.argv[1] + ' worker ' + worker.pid);
if (process.argv[2] === 'wait') setInterval(() => {}, 1000);
else { worker.kill(); process.exitCode = Number(process.argv[2]); }
`;

const [mode, ...codes] = process.argv.slice(2);
const runs = mode === 'signal' ? ['wait', '0'] : codes;
runAll(
  new GroupRunner(),
  runs.map((how, i) => ({ label: `stand-in ${i + 1}`, args: [String(i + 1), how] })),
  process.execPath,
  ['-e', RUN],
).then((code) => process.exit(code));
