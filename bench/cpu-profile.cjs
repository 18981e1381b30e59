/**
 * A CPU profile of a whole Node process, for `BENCH_HISTORY_NODE_OPTIONS="--require ./bench/cpu-profile.cjs"`: Node 20
 * refuses `--cpu-prof` in NODE_OPTIONS, and the launcher starts history with its own arguments. The profile is written
 * when the process exits, as bench/.cache/profiles/<name>-<pid>.cpuprofile (open it in Chrome's DevTools), sampled
 * every millisecond. Measurement only: nothing of the services loads it.
 */
const { Session } = require('node:inspector');
const { mkdirSync, writeFileSync } = require('node:fs');
const { basename, join } = require('node:path');

const dir = join(__dirname, '.cache', 'profiles');
const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 1000 });
session.post('Profiler.start');
let written = false;
process.on('exit', () => {
  if (written) return;
  written = true;
  // The in-process session answers synchronously, so the profile is written before the process ends.
  session.post('Profiler.stop', (err, result) => {
    if (err) return;
    mkdirSync(dir, { recursive: true });
    const name = basename(process.argv[1] ?? 'node').replace(/\.[cm]?[jt]s$/, '');
    writeFileSync(join(dir, `${name}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
  });
});
