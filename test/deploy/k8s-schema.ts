/**
 * Kubernetes schema checks from kubernetes-models (generated from the Kubernetes OpenAPI spec): its JSON Schema
 * validators for types, formats, quantities and required fields, and its TypeScript types for unknown fields,
 * which the OpenAPI schema lets through but the API server's strict field validation rejects.
 */
import { resolve } from 'node:path';
import ts from 'typescript';
import type { Manifest } from './kustomize';

const root = resolve(__dirname, '../..');

const label = (m: Manifest) => `${m.kind}/${m.metadata?.name}`;
/** The kubernetes-models module of a kind: `apps/v1` + `Deployment` → kubernetes-models/apps/v1/Deployment. */
const modelPath = (m: Manifest) => `kubernetes-models/${m.apiVersion}/${m.kind}`;

/** Every manifest against its kind's JSON Schema; one line per manifest that fails. */
export function schemaProblems(manifests: Manifest[]): string[] {
  const problems: string[] = [];
  for (const m of manifests) {
    let Model: new (data: unknown) => { validate(): void };
    try {
      Model = require(modelPath(m))[m.kind];
    } catch {
      problems.push(`${label(m)}: no Kubernetes schema for apiVersion ${m.apiVersion}, kind ${m.kind}`);
      continue;
    }
    try {
      new Model(m).validate();
    } catch (err) {
      problems.push(`${label(m)}: ${(err as Error).message}`);
    }
  }
  return problems;
}

/**
 * Every manifest as an object literal of its kind's TypeScript type, type-checked: excess property checks name
 * each unknown field (the first per manifest) and wrong types.
 */
export function unknownFieldProblems(manifests: Manifest[]): string[] {
  const file = resolve(root, 'test/deploy/manifests.generated.ts');
  const owners: Array<{ line: number; manifest: Manifest }> = [];
  let source = '';
  manifests.forEach((m, i) => {
    owners.push({ line: source.split('\n').length - 1, manifest: m });
    source += `import type { I${m.kind} as T${i} } from '${modelPath(m)}';\n`;
    source += `export const m${i}: T${i} = ${JSON.stringify(m, null, 2)};\n`;
  });

  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    lib: ['lib.es2022.d.ts'],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, ...rest) => (name === file ? ts.createSourceFile(name, source, ts.ScriptTarget.ES2022) : getSourceFile.call(host, name, ...rest));
  host.fileExists = (name) => name === file || fileExists.call(host, name);
  host.readFile = (name) => (name === file ? source : readFile.call(host, name));
  const program = ts.createProgram([file], options, host);

  return ts.getPreEmitDiagnostics(program).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    if (d.file?.fileName !== file || d.start === undefined) return text;
    const line = d.file.getLineAndCharacterOfPosition(d.start).line;
    const owner = [...owners].reverse().find((o) => o.line <= line);
    return owner ? `${label(owner.manifest)}: ${text}` : text;
  });
}
