/**
 * The environment variables a service reads, found in its sources and in every workspace module they import,
 * transitively (tests excluded): a name in `env.NAME`, `process.env.NAME`, `env['NAME']`, or a quoted
 * `'UPPER_CASE_NAME'` as the config helpers take it (`envInt(env, 'ROUTER_PORT', …)`).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { SERVICES } from '@alertbus/launcher';

const root = resolve(__dirname, '../..');

const ENV_NAME_PATTERNS = [
  /\benv\.([A-Z][A-Z0-9_]*)\b/g,
  /\benv\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\]/g,
  /['"]([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)['"]/g,
];

const isTestFile = (path: string) => /\.test\.ts$/.test(path) || /[\\/]test-support[\\/]/.test(path);

function workspaces(): Map<string, string> {
  const { workspaces: globs } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
  const dirs = globs.flatMap((g) =>
    g.endsWith('/*') ? readdirSync(join(root, g.slice(0, -2))).map((d) => join(root, g.slice(0, -2), d)) : [join(root, g)],
  );
  const byName = new Map<string, string>();
  for (const dir of dirs) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string; main?: string };
    byName.set(pkg.name, join(dir, pkg.main ?? 'src/index.ts'));
  }
  return byName;
}

function resolveImport(from: string, spec: string, packages: Map<string, string>): string | undefined {
  if (spec.startsWith('.')) {
    const base = resolve(dirname(from), spec);
    return [`${base}.ts`, join(base, 'index.ts'), base].find((p) => existsSync(p) && statSync(p).isFile() && p.endsWith('.ts'));
  }
  return packages.get(spec);
}

function tsFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return tsFilesUnder(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Names of the environment variables `services/<service>` can read. */
export function envReadBy(service: string): Set<string> {
  const packages = workspaces();
  const pending = tsFilesUnder(join(root, 'services', service, 'src')).filter((f) => !isTestFile(f));
  const seen = new Set<string>();
  const names = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file) || isTestFile(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const pattern of ENV_NAME_PATTERNS) for (const m of text.matchAll(pattern)) names.add(m[1]);
    for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
      const target = resolveImport(file, fileName, packages);
      if (target) pending.push(target);
    }
  }
  for (const name of processSettings(service)) names.add(name);
  return names;
}

/**
 * What the launcher starts the service's process with, read by Node (`NODE_OPTIONS`, for its Node options) and by
 * glibc (`MALLOC_*`) rather than by its sources: a manifest may set them for that service, and only for it.
 */
export function processSettings(service: string): string[] {
  const def = SERVICES.find((s) => s.name === service);
  if (!def) return [];
  return [...Object.keys(def.env ?? {}), ...((def.nodeArgs ?? []).length > 0 ? ['NODE_OPTIONS'] : [])];
}

/** The service folders under services/. */
export function serviceNames(): string[] {
  return readdirSync(join(root, 'services')).filter((d) => existsSync(join(root, 'services', d, 'package.json')));
}
