/**
 * The production image's file tree, from a built checkout (`npm run build`): the root manifest and lock,
 * and for every workspace its package.json and what its "files" field lists (dist/ and runtime assets such
 * as migrations/), without type declarations. `npm ci --omit=dev` in that tree gives the image.
 *
 *   node --import tsx scripts/runtime-tree.ts /app
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

interface Manifest {
  workspaces?: string[];
  files?: string[];
}

const readManifest = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/** The workspace folders the root manifest names (entries are folders or `folder/*`). */
export function workspaceDirs(root: string): string[] {
  return (readManifest(root).workspaces ?? []).flatMap((pattern) =>
    pattern.endsWith('/*')
      ? readdirSync(join(root, pattern.slice(0, -2)), { withFileTypes: true })
          .filter((e) => e.isDirectory() && existsSync(join(root, pattern.slice(0, -2), e.name, 'package.json')))
          .map((e) => `${pattern.slice(0, -2)}/${e.name}`)
      : [pattern],
  );
}

const notShipped = (file: string) => /\.d\.ts(\.map)?$|\.tsbuildinfo$/.test(basename(file));

/** Writes the tree into `dest` (emptied first). Throws when a workspace has not been built. */
export function writeRuntimeTree(root: string, dest: string): string[] {
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(root, f), join(dest, f));
  const workspaces = workspaceDirs(root);
  for (const ws of workspaces) {
    const files = readManifest(join(root, ws)).files ?? [];
    if (!files.includes('dist')) throw new Error(`${ws}/package.json: "files" must list dist`);
    mkdirSync(join(dest, ws), { recursive: true });
    cpSync(join(root, ws, 'package.json'), join(dest, ws, 'package.json'));
    for (const entry of files) {
      const from = join(root, ws, entry);
      if (!existsSync(from)) throw new Error(`${ws}/${entry} does not exist${entry === 'dist' ? ': run `npm run build` first' : ''}`);
      mkdirSync(dirname(join(dest, ws, entry)), { recursive: true });
      cpSync(from, join(dest, ws, entry), { recursive: true, filter: (src) => !notShipped(src) });
    }
  }
  return workspaces;
}

if (require.main === module) {
  const dest = process.argv[2];
  if (!dest) {
    process.stderr.write('usage: runtime-tree.ts DEST\n');
    process.exit(2);
  }
  const root = resolve(__dirname, '..');
  const workspaces = writeRuntimeTree(root, resolve(dest));
  process.stdout.write(`runtime tree of ${workspaces.length} workspaces in ${resolve(dest)}\n`);
}
