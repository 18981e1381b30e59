/** The kustomize subset renders as kustomize does: generated names, references, images, namespace. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configMapHash, parseEnvFile, renderKustomization } from './kustomize';

describe('configMapHash', () => {
  // Expected values from kustomize's own hasher tests (api/hasher/hasher_test.go, TestConfigMapHash).
  test.each([
    ['no data', undefined, '6ct58987ht'],
    ['one key', { one: '' }, '9g67k2htb6'],
    ['three keys, sorted', { two: 2, one: '', three: 3 } as unknown as Record<string, string>, '7757f9kkct'],
  ])('%s', (_case, data, expected) => {
    expect(configMapHash('', data)).toBe(expected);
  });

  test('depends on the name and on every value', () => {
    const base = configMapHash('alertbus-config', { LOG_LEVEL: 'info' });
    expect(configMapHash('alertbus-config', { LOG_LEVEL: 'debug' })).not.toBe(base);
    expect(configMapHash('other', { LOG_LEVEL: 'info' })).not.toBe(base);
  });
});

describe('parseEnvFile', () => {
  test('keeps a value verbatim after the first "=", "#" included; skips comments and blank lines', () => {
    const text = '\uFEFF# comment\n\nA=1\n  B=#alerts\nC=x=y \nD\n';
    expect(parseEnvFile(text, 'f.env')).toEqual([
      ['A', '1'],
      ['B', '#alerts'],
      ['C', 'x=y '],
      ['D', ''],
    ]);
  });

  test('rejects a name that is not an environment variable name, with its line', () => {
    expect(() => parseEnvFile('A=1\n9X=2\n', 'f.env')).toThrow('f.env:2: "9X" is not a valid environment variable name');
  });
});

describe('renderKustomization', () => {
  let dir: string;
  const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
  const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: { name: app }
spec:
  selector: { matchLabels: { app: a } }
  template:
    metadata: { labels: { app: a } }
    spec:
      containers:
        - name: app
          image: registry.local:5000/app:old
          envFrom: [{ configMapRef: { name: settings } }]
          env: [{ name: X, valueFrom: { configMapKeyRef: { name: settings, key: X } } }]
      volumes:
        - { name: files, configMap: { name: files } }
        - { name: both, projected: { sources: [{ configMap: { name: settings } }] } }
`;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kustomize-'));
    write('app.yaml', deployment);
    write('settings.env', 'X=1\nY=#y\n');
    write('rules.yaml', 'a: 1\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('generates ConfigMaps, points references at hashed names, overrides images, sets the namespace', () => {
    write(
      'kustomization.yaml',
      `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: ns
resources: [app.yaml]
images: [{ name: registry.local:5000/app, newName: example.org/app, newTag: "2.0" }]
configMapGenerator:
  - { name: settings, envs: [settings.env] }
  - { name: files, files: [rules.yaml, other=rules.yaml], options: { disableNameSuffixHash: true } }
`,
    );
    const [settings, files, app] = renderKustomization(dir) as any[];
    const hashed = `settings-${configMapHash('settings', { X: '1', Y: '#y' })}`;
    expect(settings).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: hashed, namespace: 'ns' }, data: { X: '1', Y: '#y' } });
    expect(files.metadata.name).toBe('files');
    expect(files.data).toEqual({ 'rules.yaml': 'a: 1\n', other: 'a: 1\n' });

    const pod = app.spec.template.spec;
    expect(app.metadata.namespace).toBe('ns');
    expect(pod.containers[0].image).toBe('example.org/app:2.0');
    expect(pod.containers[0].envFrom[0].configMapRef.name).toBe(hashed);
    expect(pod.containers[0].env[0].valueFrom.configMapKeyRef.name).toBe(hashed);
    expect(pod.volumes[0].configMap.name).toBe('files');
    expect(pod.volumes[1].projected.sources[0].configMap.name).toBe(hashed);
  });

  test('refuses what it does not implement instead of rendering something else', () => {
    write('kustomization.yaml', 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [app.yaml]\npatches: []\n');
    expect(() => renderKustomization(dir)).toThrow('kustomization: "patches" is not supported');
    write(
      'kustomization.yaml',
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nconfigMapGenerator: [{ name: s, literals: [A=1] }]\n',
    );
    expect(() => renderKustomization(dir)).toThrow('configMapGenerator: "literals" is not supported');
  });

  test('refuses a key set twice across a generator\'s sources', () => {
    write(
      'kustomization.yaml',
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nconfigMapGenerator: [{ name: s, envs: [settings.env, settings.env] }]\n',
    );
    expect(() => renderKustomization(dir)).toThrow('key "X" from settings.env is already set');
  });
});
