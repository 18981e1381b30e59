/**
 * Renders a kustomization the way `kubectl apply -k` does, for the subset of kustomize that deploy/ uses, so
 * the tests check what a cluster would receive. A field outside the subset is an error, never ignored.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

interface Generator {
  name: string;
  envs?: string[];
  files?: string[];
  options?: { disableNameSuffixHash?: boolean };
}

interface ImageOverride {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

const FIELDS: Record<string, readonly string[]> = {
  kustomization: ['apiVersion', 'kind', 'namespace', 'resources', 'images', 'configMapGenerator'],
  configMapGenerator: ['name', 'envs', 'files', 'options'],
  'configMapGenerator options': ['disableNameSuffixHash'],
  images: ['name', 'newName', 'newTag', 'digest'],
};

/** Kinds whose pod template the generators' names and the image overrides reach. */
const POD_TEMPLATE_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job']);
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PriorityClass', 'StorageClass']);

function onlyKnown(where: keyof typeof FIELDS, value: object): void {
  for (const key of Object.keys(value)) {
    if (!FIELDS[where].includes(key)) throw new Error(`${where}: "${key}" is not supported by this renderer (supported: ${FIELDS[where].join(', ')})`);
  }
}

/**
 * Parses a multi-document YAML file as kubectl does (YAML 1.1: `on`, `yes` are booleans), skipping empty documents.
 */
export function readManifests(path: string): Manifest[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'), { version: '1.1' });
  const out: Manifest[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as Manifest | null;
    if (value !== null) out.push(value);
  }
  return out;
}

/** An env file as kustomize reads it: `KEY=value` verbatim after the first `=`, `#` lines and blank lines skipped. */
export function parseEnvFile(text: string, origin: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const line = raw.trimStart();
      if (line === '' || line.startsWith('#')) return;
      const eq = line.indexOf('=');
      const key = eq === -1 ? line : line.slice(0, eq);
      if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(key)) throw new Error(`${origin}:${i + 1}: "${key}" is not a valid environment variable name`);
      pairs.push([key, eq === -1 ? '' : line.slice(eq + 1)]);
    });
  return pairs;
}

/** JSON as Go's encoding/json writes it: map keys sorted, and <, >, &, U+2028, U+2029 escaped. */
function goJson(value: unknown): string {
  const sorted = (v: unknown): unknown =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]))
      : v;
  return JSON.stringify(sorted(value)).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The suffix kustomize appends to a generated ConfigMap's name: its hasher over kind, name and data. */
export function configMapHash(name: string, data: Record<string, string> | undefined): string {
  const hex = createHash('sha256')
    .update(goJson({ kind: 'ConfigMap', name, data: data ?? '' }))
    .digest('hex');
  const swap: Record<string, string> = { '0': 'g', '1': 'h', '3': 'k', a: 'm', e: 't' };
  return [...hex.slice(0, 10)].map((c) => swap[c] ?? c).join('');
}

function generateConfigMap(dir: string, gen: Generator): Manifest {
  onlyKnown('configMapGenerator', gen);
  if (gen.options) onlyKnown('configMapGenerator options', gen.options);
  const data: Record<string, string> = {};
  const add = (key: string, value: string, origin: string) => {
    if (key in data) throw new Error(`configMapGenerator ${gen.name}: key "${key}" from ${origin} is already set`);
    data[key] = value;
  };
  for (const file of gen.envs ?? []) {
    for (const [k, v] of parseEnvFile(readFileSync(join(dir, file), 'utf8'), file)) add(k, v, file);
  }
  for (const source of gen.files ?? []) {
    const eq = source.indexOf('=');
    const [key, file] = eq === -1 ? [basename(source), source] : [source.slice(0, eq), source.slice(eq + 1)];
    add(key, readFileSync(join(dir, file), 'utf8'), file);
  }
  const name = gen.options?.disableNameSuffixHash ? gen.name : `${gen.name}-${configMapHash(gen.name, data)}`;
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data };
}

/** Manifests are plain parsed YAML; the schema tests vouch for their shape. */
type Json = Record<string, any>;

/** The pod spec of a workload, or undefined for kinds without one. */
export function podSpecOf(m: Manifest): Json | undefined {
  return POD_TEMPLATE_KINDS.has(m.kind) ? (m as Json).spec?.template?.spec : undefined;
}

function containersOf(pod: Json): Json[] {
  return [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
}

/** Points every reference to a generated ConfigMap at its hashed name, as kustomize's name reference transformer does. */
function renameConfigMapRefs(pod: Json, renamed: Map<string, string>): void {
  const fix = (ref: Json | undefined) => {
    if (ref && renamed.has(ref.name)) ref.name = renamed.get(ref.name);
  };
  for (const c of containersOf(pod)) {
    for (const from of c.envFrom ?? []) fix(from.configMapRef);
    for (const e of c.env ?? []) fix(e.valueFrom?.configMapKeyRef);
  }
  for (const v of pod.volumes ?? []) {
    fix(v.configMap);
    for (const s of v.projected?.sources ?? []) fix(s.configMap);
  }
}

function splitImage(ref: string): { name: string; tag?: string; digest?: string } {
  const at = ref.indexOf('@');
  const digest = at === -1 ? undefined : ref.slice(at + 1);
  const rest = at === -1 ? ref : ref.slice(0, at);
  const colon = rest.lastIndexOf(':');
  return colon > rest.lastIndexOf('/') ? { name: rest.slice(0, colon), tag: rest.slice(colon + 1), digest } : { name: rest, digest };
}

function overrideImages(pod: Json, images: ImageOverride[]): void {
  for (const c of containersOf(pod)) {
    const image = splitImage(String(c.image ?? ''));
    const o = images.find((i) => i.name === image.name);
    if (!o) continue;
    const name = o.newName ?? image.name;
    if (o.digest) c.image = `${name}@${o.digest}`;
    else if (o.newTag) c.image = `${name}:${o.newTag}`;
    else c.image = `${name}${image.tag ? `:${image.tag}` : ''}${image.digest ? `@${image.digest}` : ''}`;
  }
}

/** `kustomize build DIR` for the supported subset: resources (files), configMapGenerator, images, namespace. */
export function renderKustomization(dir: string): Manifest[] {
  const [k] = readManifests(join(dir, 'kustomization.yaml')) as unknown as Json[];
  onlyKnown('kustomization', k);
  if (k.apiVersion !== 'kustomize.config.k8s.io/v1beta1' || k.kind !== 'Kustomization') {
    throw new Error('kustomization.yaml must be apiVersion kustomize.config.k8s.io/v1beta1, kind Kustomization');
  }
  const images: ImageOverride[] = k.images ?? [];
  images.forEach((i) => onlyKnown('images', i));

  const generated = ((k.configMapGenerator ?? []) as Generator[]).map((g) => ({ base: g.name, cm: generateConfigMap(dir, g) }));
  const renamed = new Map(generated.map((g) => [g.base, g.cm.metadata.name]));
  const resources = ((k.resources ?? []) as string[]).flatMap((file) => readManifests(join(dir, file)));

  const out = [...generated.map((g) => g.cm), ...resources];
  for (const m of out) {
    const pod = podSpecOf(m);
    if (pod) {
      renameConfigMapRefs(pod, renamed);
      overrideImages(pod, images);
    }
    if (k.namespace && !CLUSTER_SCOPED.has(m.kind)) m.metadata.namespace = k.namespace;
  }
  return out;
}
