/**
 * deploy/ renders (as `kubectl apply -k deploy/` would) into manifests that Kubernetes accepts, that fit each
 * other and the services, and that follow the house rules; and each check fails when what it guards breaks.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KEYED_PARTITIONS } from '@alertbus/schemas';
import { builtinRules, compileRules, route } from '@alertbus/routing';
import { crossCheck, policyProblems, serviceOf, type DeployContext } from './checks';
import { schemaProblems, unknownFieldProblems } from './k8s-schema';
import { parseEnvFile, podSpecOf, readManifests, renderKustomization, type Manifest } from './kustomize';
import { envReadBy, serviceNames } from './service-env';

const root = resolve(__dirname, '../..');
const deploy = join(root, 'deploy');
const rendered = renderKustomization(deploy);
const ctx: DeployContext = {
  secrets: readManifests(join(deploy, 'secret.example.yaml')),
  envReadBy: new Map(serviceNames().map((s) => [s, envReadBy(s)])),
  partitions: KEYED_PARTITIONS,
};
const allProblems = (ms: Manifest[], c = ctx) => [...schemaProblems(ms), ...crossCheck(ms, c), ...policyProblems(ms, c)];

type Json = Record<string, any>;
const workload = (ms: Manifest[], service: string): Json => ms.find((m) => podSpecOf(m)?.containers.some((c: Json) => serviceOf(c) === service))!;
const container = (ms: Manifest[], service: string): Json => podSpecOf(workload(ms, service) as Manifest)!.containers[0];
const configMap = (ms: Manifest[], prefix: string): Json => ms.find((m) => m.kind === 'ConfigMap' && m.metadata.name.startsWith(prefix))!;
const first = (ms: Manifest[], kind: string, name?: string): Json => ms.find((m) => m.kind === kind && (name === undefined || m.metadata.name === name))!;

/** The variable names of the README's configuration table. */
function documentedVariables(): Set<string> {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1));
  return new Set([...table.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]));
}

describe('deploy/', () => {
  test('runs every service once, as `serve <service>` of the one image, in the namespace of the kustomization', () => {
    const services = rendered.filter(podSpecOf).flatMap((w) => podSpecOf(w)!.containers.map(serviceOf));
    expect(services.sort()).toEqual(serviceNames().sort());
    for (const m of rendered) expect(m.metadata.namespace).toBe('alertbus');
    for (const w of rendered.filter(podSpecOf)) expect(podSpecOf(w)!.containers[0].image).toBe('registry.example.com/alertbus:0.1.0');
  });

  test('the image is a placeholder on a registry host, never a Docker Hub name, and says it must be set', () => {
    const text = readFileSync(join(deploy, 'kustomization.yaml'), 'utf8');
    expect(imageProblems(rendered, text)).toEqual([]);
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toMatch(/images: newName and newTag: YOUR registry and tag/);
  });

  test('every setting a service reads is in its manifest, the Secret or config.env, or left to its default on purpose', () => {
    expect(unlistedSettings(rendered)).toEqual([]);
  });

  test('the router is a StatefulSet whose pods name their own instance id', () => {
    expect(workload(rendered, 'router').kind).toBe('StatefulSet');
    const id = container(rendered, 'router').env.find((e: Json) => e.name === 'ROUTER_INSTANCE_ID');
    expect(id.valueFrom.fieldRef.fieldPath).toBe('metadata.name');
  });

  test('every manifest, and the example Secret, passes its Kubernetes schema', () => {
    expect(schemaProblems([...rendered, ...ctx.secrets])).toEqual([]);
  });

  test('no manifest has a field Kubernetes does not know', () => {
    expect(unknownFieldProblems([...rendered, ...ctx.secrets])).toEqual([]);
  });

  test('the manifests fit each other and the services', () => {
    expect(crossCheck(rendered, ctx)).toEqual([]);
  });

  test('every workload is probed, sized, non-root, read-only and under a disruption budget', () => {
    expect(policyProblems(rendered, ctx)).toEqual([]);
  });

  test('the shipped rules compile and route as the built-in defaults do', () => {
    const defaultChannel = configMap(rendered, 'alertbus-config').data.SLACK_DEFAULT_CHANNEL;
    const result = compileRules(configMap(rendered, 'alertbus-rules').data['rules.yaml'], 'deploy/rules.yaml', { defaultChannel });
    if (!result.ok) throw new Error(result.message);
    const builtin = builtinRules({ defaultChannel });
    for (const severity of ['critical', 'error', 'warning', 'info', 'unknown']) {
      const alert = { labels: { alertname: 'X' }, source: 'alertmanager', severity, status: 'firing' };
      const { rule: _a, ...shipped } = route(result.rules, alert);
      const { rule: _b, ...defaults } = route(builtin, alert);
      expect(shipped).toEqual(defaults);
    }
  });

  test('a commented setting of config.env is a value as it stands: uncommented, kustomize keeps all after the `=`', () => {
    const text = readFileSync(join(deploy, 'config.env'), 'utf8');
    // Before, three lines had their explanation after the value, and uncommented they made ingest refuse to start.
    const withText = [...text.matchAll(/^#\s*([A-Z][A-Z0-9_]*)=(.*)$/gm)].filter((m) => /\s/.test(m[2]!)).map((m) => m[1]);
    expect(withText).toEqual([]);
  });

  test('config.env and every variable the manifests set name settings a service reads, listed in the README', () => {
    const text = readFileSync(join(deploy, 'config.env'), 'utf8');
    const commented = [...text.matchAll(/^#\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    const set = parseEnvFile(text, 'config.env').map(([k]) => k);
    const inManifests = rendered.filter(podSpecOf).flatMap((w) => podSpecOf(w)!.containers.flatMap((c: Json) => (c.env ?? []).map((e: Json) => e.name)));
    const secretKeys = ctx.secrets.flatMap((s) => Object.keys((s as Json).stringData ?? {}));
    const readByAny = new Set([...ctx.envReadBy.values()].flatMap((s) => [...s]));
    const documented = documentedVariables();
    const names = [...new Set([...commented, ...set, ...inManifests, ...secretKeys])];
    expect(names.filter((n) => !readByAny.has(n))).toEqual([]);
    expect(names.filter((n) => !documented.has(n))).toEqual([]);
  });
});

/**
 * Where a pod's image comes from: a name without a registry host (`alertbus:0.1.0`) is pulled from Docker Hub, where
 * anyone may publish it; the kustomization's comment must say the shipped name is a placeholder to replace.
 */
function imageProblems(ms: Manifest[], kustomization: string): string[] {
  const problems: string[] = [];
  for (const w of ms.filter(podSpecOf)) {
    for (const c of podSpecOf(w)!.containers as Json[]) {
      const first = String(c.image).split('/')[0]!;
      if (!String(c.image).includes('/') || !/[.:]/.test(first)) problems.push(`${w.kind}/${w.metadata.name}: image ${c.image} has no registry host (Docker Hub)`);
    }
  }
  if (!/^#.*SET THE IMAGE FIRST/m.test(kustomization.split('\nimages:')[0]!)) problems.push('kustomization.yaml: no comment at the top saying to set the image');
  return problems;
}

/**
 * Documented settings a service reads that nothing in deploy/ gives it or lists (config.env, set or commented): an
 * operator would not know to set them. Tuning and per-instance settings are left out on purpose.
 */
const LEFT_TO_DEFAULTS = new Set([
  'ALERTBUS_INSTANCE_ID', 'ALERTBUS_TOKEN', 'INGEST_ALLOW_OPEN', 'INGEST_NOTIFY_DIRECTLY', 'INGEST_PAGER_SENDERS', 'SLACK_USERGROUPS_TTL', 'ONCALL_OPSGENIE_API_URL', 'HISTORY_API_TOKENS_FILE',
  // the local broker's (npm start and tests start it; a cluster has its own Kafka)
  'ALERTBUS_KAFKA_HOME', 'ALERTBUS_KAFKA_DEBUG',
]);

function unlistedSettings(ms: Manifest[], configEnv = readFileSync(join(deploy, 'config.env'), 'utf8')): string[] {
  const listed = new Set([...configEnv.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
  const secretKeys = new Set(ctx.secrets.flatMap((s) => Object.keys((s as Json).stringData ?? {})));
  const documented = documentedVariables();
  const problems: string[] = [];
  for (const service of serviceNames()) {
    const c = container(ms, service);
    const inManifest = new Set<string>((c.env ?? []).map((e: Json) => e.name));
    for (const name of [...ctx.envReadBy.get(service)!].sort()) {
      if (!documented.has(name) || inManifest.has(name) || secretKeys.has(name) || listed.has(name) || LEFT_TO_DEFAULTS.has(name)) continue;
      problems.push(`${service} reads ${name}, which deploy/ neither sets nor lists in config.env`);
    }
  }
  return problems;
}

describe('the deploy checks catch', () => {
  test('an image left to Docker Hub', () => {
    const broken = structuredClone(rendered);
    container(broken, 'ingest').image = 'alertbus:0.1.0';
    expect(imageProblems(broken, readFileSync(join(deploy, 'kustomization.yaml'), 'utf8'))).toEqual([
      'Deployment/alertbus-ingest: image alertbus:0.1.0 has no registry host (Docker Hub)',
    ]);
  });

  test('a setting config.env does not list', () => {
    const configEnv = readFileSync(join(deploy, 'config.env'), 'utf8').replace(/^# SLACK_REDIRECT_URL=.*$/m, '');
    expect(unlistedSettings(rendered, configEnv)).toEqual(['ingest reads SLACK_REDIRECT_URL, which deploy/ neither sets nor lists in config.env']);
  });
});

/** Breaks the rendered manifests one way each; the checks must name the break. */
describe('the checks catch', () => {
  const cases: Array<[string, (ms: Manifest[]) => void, string]> = [
    ['a value of the wrong type', (ms) => (workload(ms, 'ingest').spec.replicas = '2'), 'spec/replicas must be integer'],
    ['a variable no service reads', (ms) => container(ms, 'history').env.push({ name: 'HISTORY_PORTT', value: '1' }), 'sets HISTORY_PORTT, which history does not read'],
    ["another service's variable", (ms) => container(ms, 'ingest').env.push({ name: 'ROUTER_PORT', value: '1' }), 'sets ROUTER_PORT, which ingest does not read'],
    ["the router's process settings on another service", (ms) => container(ms, 'history').env.push({ name: 'MALLOC_ARENA_MAX', value: '2' }), 'sets MALLOC_ARENA_MAX, which history does not read'],
    ['a probe on another port', (ms) => (container(ms, 'ingest').readinessProbe.httpGet.port = 8081), 'readinessProbe asks port 8081, the service listens on 8080'],
    ['a port variable the probes do not follow', (ms) => (container(ms, 'router').env.find((e: Json) => e.name === 'ROUTER_PORT').value = '9090'), 'declares no containerPort 9090'],
    ['a liveness probe on /readyz', (ms) => (container(ms, 'slack-sink').livenessProbe.httpGet.path = '/readyz'), 'livenessProbe asks /readyz, should ask /healthz'],
    ['a service left on 127.0.0.1', (ms) => (container(ms, 'history').env = container(ms, 'history').env.filter((e: Json) => e.name !== 'HISTORY_HOST')), 'must set HISTORY_HOST=0.0.0.0'],
    ['the pager sink left on 127.0.0.1', (ms) => (container(ms, 'opsgenie-sink').env = container(ms, 'opsgenie-sink').env.filter((e: Json) => e.name !== 'OPSGENIE_SINK_HOST')), 'must set OPSGENIE_SINK_HOST=0.0.0.0'],
    ['an exec probe on another port', (ms) => (container(ms, 'opsgenie-sink').readinessProbe.exec.command[2] = "fetch('http://127.0.0.1:8083/readyz')"), 'does not ask http://127.0.0.1:8084/readyz'],
    ['a missing Secret', (ms) => (container(ms, 'history').env.find((e: Json) => e.name === 'DATABASE_URL').valueFrom.secretKeyRef.name = 'db'), 'Secret db, which is not documented'],
    ['a missing Secret key', (ms) => (container(ms, 'history').env.find((e: Json) => e.name === 'DATABASE_URL').valueFrom.secretKeyRef.key = 'PG_URL'), 'key PG_URL, which Secret alertbus-secrets does not document'],
    ['a missing ConfigMap', (ms) => (container(ms, 'ingest').envFrom[0].configMapRef.name = 'alertbus-config'), 'takes ConfigMap alertbus-config, which is not rendered'],
    ['a shared setting nobody reads', (ms) => (configMap(ms, 'alertbus-config').data.KAFKA_BROKER = 'x:1'), 'KAFKA_BROKER is read by none of'],
    ['rules mounted with subPath', (ms) => (container(ms, 'router').volumeMounts[0].subPath = 'rules.yaml'), 'is not in a folder mounted from a ConfigMap'],
    ['a rules file the ConfigMap lacks', (ms) => (container(ms, 'router').env.find((e: Json) => e.name === 'ROUTING_RULES').value = '/etc/alertbus/rules/routes.yaml'), 'has no key routes.yaml'],
    ['a StatefulSet without its Service', (ms) => (workload(ms, 'router').spec.serviceName = 'router'), 'serviceName router is not a rendered Service'],
    ['a Service targeting an undeclared port', (ms) => (first(ms, 'Service', 'alertbus-ingest').spec.ports[0].targetPort = 'web'), 'targets web, which no selected container declares'],
    ['a budget selecting nothing', (ms) => (first(ms, 'PodDisruptionBudget').spec.selector.matchLabels['app.kubernetes.io/component'] = 'x'), 'selects 0 workloads'],
    ['an unknown service', (ms) => (container(ms, 'history').args = ['serve', 'histories']), 'args must be ["serve", <one of'],
    ['a missing probe', (ms) => delete container(ms, 'router').startupProbe, 'container router: no startupProbe'],
    ['a missing memory limit', (ms) => delete container(ms, 'slack-sink').resources.limits, 'needs cpu and memory requests and a memory limit'],
    ['a writable root filesystem', (ms) => (container(ms, 'ingest').securityContext.readOnlyRootFilesystem = false), 'root filesystem must be read-only'],
    ['more consumers than partitions', (ms) => (workload(ms, 'slack-sink').spec.replicas = KEYED_PARTITIONS + 1), `only ${KEYED_PARTITIONS} partitions to share`],
  ];

  test.each(cases)('%s', (_case, breakIt, expected) => {
    const broken = structuredClone(rendered);
    breakIt(broken);
    expect(allProblems(broken).join('\n')).toContain(expected);
  });

  test('a misspelt field', () => {
    const broken = structuredClone(rendered);
    container(broken, 'router').readynessProbe = container(broken, 'router').readinessProbe;
    expect(unknownFieldProblems(broken)).toEqual([
      `StatefulSet/alertbus-router: Object literal may only specify known properties, and '"readynessProbe"' does not exist in type 'IContainer'.`,
    ]);
  });

  test('an example Secret key given to no container', () => {
    const secrets = structuredClone(ctx.secrets);
    first(secrets, 'Secret').stringData.SLACK_CLIENT_ID = 'x';
    expect(crossCheck(rendered, { ...ctx, secrets })).toContain('Secret/alertbus-secrets: key SLACK_CLIENT_ID is given to no container');
  });
});
