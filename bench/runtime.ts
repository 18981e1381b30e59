/**
 * Which code the bench's services run (BENCH_RUNTIME). `source`, the default, is the TypeScript through tsx, as
 * `npm start` runs a checkout. `dist` is the compiled JavaScript under Node's `production` condition, as the image,
 * compose and deploy/ run it; the workspaces are built first (`tsc -b`, which does nothing when the output is up to
 * date), so a run never measures stale output. Each bench script asks once, when it starts.
 */
import { execFileSync } from 'node:child_process';
import type { Runtime } from '@alertbus/launcher';

/** `npm run build`'s compile, in this process's terminal. */
function buildWorkspaces(root: string): void {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}

/** The runtime BENCH_RUNTIME asks for, the compiled output built when it is `dist`; anything else is refused. */
export function benchRuntime(root: string, env: NodeJS.ProcessEnv = process.env, build: (root: string) => void = buildWorkspaces): Runtime {
  const asked = env.BENCH_RUNTIME || 'source';
  if (asked !== 'source' && asked !== 'dist') {
    throw new Error(`BENCH_RUNTIME is ${JSON.stringify(asked)}: it must be "source" (TypeScript through tsx, as npm start runs it) or "dist" (compiled, as the image runs it)`);
  }
  if (asked === 'dist') build(root);
  return asked;
}

/** How a figure's header names the runtime. */
export function runtimeLabel(runtime: Runtime): string {
  return runtime === 'dist' ? 'services compiled (dist/, as the image runs them)' : 'services from TypeScript through tsx (as npm start runs them)';
}
