/**
 * What a schema cannot see: that the manifests fit each other and the services (names referenced exist,
 * variables set are ones the service reads, probes reach the port the service listens on), and the house rules
 * every workload follows. Each check returns one line per problem, naming the manifest.
 */
import { posix } from 'node:path';
import { podSpecOf, type Manifest } from './kustomize';

type Json = Record<string, any>;

export interface DeployContext {
  /** The Secrets the workloads expect to exist in the cluster (deploy/secret.example.yaml). */
  secrets: Manifest[];
  /** Per service folder, the environment variables it reads. */
  envReadBy: Map<string, Set<string>>;
  /** Partitions of the keyed topics: consumer instances beyond this count sit idle. */
  partitions: number;
}

const name = (m: Manifest) => `${m.kind}/${m.metadata.name}`;
const workloads = (ms: Manifest[]) => ms.filter((m) => podSpecOf(m));
const podLabels = (w: Manifest): Record<string, string> => (w as Json).spec.template.metadata?.labels ?? {};
const matches = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
const dataKeys = (m: Json | undefined) => new Set([...Object.keys(m?.data ?? {}), ...Object.keys(m?.stringData ?? {})]);

/** The service a container runs: `args: ["serve", "<service>"]`. */
export const serviceOf = (c: Json): string | undefined => (Array.isArray(c.args) && c.args[0] === 'serve' ? c.args[1] : undefined);
/** ROUTER_PORT for router, SLACK_SINK_PORT for slack-sink… */
const portVar = (service: string) => `${service.toUpperCase().replace(/-/g, '_')}_PORT`;
const hostVar = (service: string) => `${service.toUpperCase().replace(/-/g, '_')}_HOST`;

const PROBES = { readinessProbe: '/readyz', livenessProbe: '/healthz', startupProbe: '/healthz' } as const;

export function crossCheck(manifests: Manifest[], ctx: DeployContext): string[] {
  const problems: string[] = [];
  const find = (kind: string, n: string) => manifests.find((m) => m.kind === kind && m.metadata.name === n);
  const secret = (n: string) => ctx.secrets.find((m) => m.metadata.name === n);
  /** ConfigMap name → services that take all of it as variables. */
  const envFromConsumers = new Map<string, Set<string>>();
  const usedSecretKeys = new Set<string>();

  for (const w of workloads(manifests)) {
    const pod = podSpecOf(w)!;
    const labels = podLabels(w);
    if (!matches((w as Json).spec.selector?.matchLabels, labels)) problems.push(`${name(w)}: selector does not match the pod template's labels`);
    for (const t of pod.topologySpreadConstraints ?? []) {
      if (!matches(t.labelSelector?.matchLabels, labels)) problems.push(`${name(w)}: a topology spread constraint selects other pods than its own`);
    }
    const volumes = new Map<string, Json>((pod.volumes ?? []).map((v: Json) => [v.name, v]));
    for (const v of volumes.values()) {
      if (v.configMap && !find('ConfigMap', v.configMap.name)) problems.push(`${name(w)}: volume ${v.name} mounts ConfigMap ${v.configMap.name}, which is not rendered`);
      if (v.secret && !secret(v.secret.secretName)) problems.push(`${name(w)}: volume ${v.name} mounts Secret ${v.secret.secretName}, which is not documented`);
    }

    for (const c of pod.containers ?? []) {
      const where = `${name(w)} container ${c.name}`;
      const service = serviceOf(c);
      const reads = service === undefined ? undefined : ctx.envReadBy.get(service);
      if (!service || !reads) {
        problems.push(`${where}: args must be ["serve", <one of ${[...ctx.envReadBy.keys()].join(', ')}>], got ${JSON.stringify(c.args)}`);
        continue;
      }
      const env = new Map<string, Json>((c.env ?? []).map((e: Json) => [e.name, e]));
      for (const [n, e] of env) {
        if (!reads.has(n)) problems.push(`${where}: sets ${n}, which ${service} does not read`);
        const sref = e.valueFrom?.secretKeyRef;
        if (sref) {
          usedSecretKeys.add(`${sref.name}/${sref.key}`);
          if (!secret(sref.name)) problems.push(`${where}: ${n} comes from Secret ${sref.name}, which is not documented`);
          else if (!dataKeys(secret(sref.name)).has(sref.key)) problems.push(`${where}: ${n} comes from key ${sref.key}, which Secret ${sref.name} does not document`);
        }
        const cref = e.valueFrom?.configMapKeyRef;
        if (cref && !dataKeys(find('ConfigMap', cref.name)).has(cref.key)) problems.push(`${where}: ${n} comes from ConfigMap ${cref.name} key ${cref.key}, which is not rendered`);
      }
      for (const from of c.envFrom ?? []) {
        if (from.configMapRef) {
          if (!find('ConfigMap', from.configMapRef.name)) problems.push(`${where}: takes ConfigMap ${from.configMapRef.name}, which is not rendered`);
          envFromConsumers.set(from.configMapRef.name, (envFromConsumers.get(from.configMapRef.name) ?? new Set()).add(service));
        }
        if (from.secretRef) problems.push(`${where}: takes all of Secret ${from.secretRef.name}; name each key it needs with secretKeyRef`);
      }

      // The port the service listens on is set here, the container declares it, and every probe asks it.
      const port = Number(env.get(portVar(service))?.value);
      if (!Number.isInteger(port)) {
        problems.push(`${where}: must set ${portVar(service)} to its port`);
        continue;
      }
      const ports: Json[] = c.ports ?? [];
      if (!ports.some((p) => p.containerPort === port)) problems.push(`${where}: declares no containerPort ${port} (${portVar(service)})`);
      const reachable = reads.has(hostVar(service));
      if (reachable && env.get(hostVar(service))?.value !== '0.0.0.0') {
        problems.push(`${where}: must set ${hostVar(service)}=0.0.0.0, or the kubelet's probes and Prometheus cannot reach it`);
      }
      for (const [probe, path] of Object.entries(PROBES)) {
        const p = c[probe];
        if (!p) continue;
        if (p.httpGet) {
          if (!reachable) problems.push(`${where}: ${probe} asks over the pod IP, but ${service} has no ${hostVar(service)} and listens on 127.0.0.1`);
          const target = typeof p.httpGet.port === 'number' ? p.httpGet.port : ports.find((cp) => cp.name === p.httpGet.port)?.containerPort;
          if (target !== port) problems.push(`${where}: ${probe} asks port ${p.httpGet.port}, the service listens on ${port}`);
          if (p.httpGet.path !== path) problems.push(`${where}: ${probe} asks ${p.httpGet.path}, should ask ${path}`);
        } else if (p.exec) {
          const url = `http://127.0.0.1:${port}${path}`;
          if (!(p.exec.command ?? []).join(' ').includes(`'${url}'`)) problems.push(`${where}: ${probe} runs a command that does not ask ${url}`);
        } else {
          problems.push(`${where}: ${probe} must ask ${path} over HTTP`);
        }
      }

      for (const mount of c.volumeMounts ?? []) {
        if (!volumes.has(mount.name)) problems.push(`${where}: mounts volume ${mount.name}, which the pod does not define`);
      }
      // The rules file: a key of a mounted ConfigMap, mounted as a folder (a subPath mount never sees updates).
      const rules = env.get('ROUTING_RULES')?.value;
      if (rules !== undefined) {
        const mount = (c.volumeMounts ?? []).find((m: Json) => m.mountPath === posix.dirname(rules));
        const cm = mount && volumes.get(mount.name)?.configMap;
        if (!mount || mount.subPath || !cm) problems.push(`${where}: ROUTING_RULES ${rules} is not in a folder mounted from a ConfigMap`);
        else if (!dataKeys(find('ConfigMap', cm.name)).has(posix.basename(rules))) {
          problems.push(`${where}: ROUTING_RULES ${rules}: ConfigMap ${cm.name} has no key ${posix.basename(rules)}`);
        }
      }
    }

    if (w.kind === 'StatefulSet') {
      const svc = find('Service', (w as Json).spec.serviceName);
      if (!svc) problems.push(`${name(w)}: serviceName ${(w as Json).spec.serviceName} is not a rendered Service`);
      else if ((svc as Json).spec.clusterIP !== 'None' || !matches((svc as Json).spec.selector, labels)) {
        problems.push(`${name(w)}: Service ${svc.metadata.name} must be headless and select its pods`);
      }
    }
  }

  // Every shared setting is read by a service that takes it; every documented secret key is given to someone.
  for (const [cmName, consumers] of envFromConsumers) {
    for (const key of dataKeys(find('ConfigMap', cmName))) {
      if (![...consumers].some((s) => ctx.envReadBy.get(s)!.has(key))) problems.push(`ConfigMap/${cmName}: ${key} is read by none of ${[...consumers].join(', ')}`);
    }
  }
  for (const s of ctx.secrets) {
    for (const key of dataKeys(s)) if (!usedSecretKeys.has(`${s.metadata.name}/${key}`)) problems.push(`${name(s)}: key ${key} is given to no container`);
  }

  for (const m of manifests) {
    const spec = (m as Json).spec;
    if (m.kind === 'Service') {
      const selected = workloads(manifests).filter((w) => matches(spec.selector, podLabels(w)));
      if (selected.length === 0) problems.push(`${name(m)}: selects no workload`);
      const containerPorts = selected.flatMap((w) => podSpecOf(w)!.containers.flatMap((c: Json) => c.ports ?? []));
      for (const p of spec.ports ?? []) {
        const ok = containerPorts.some((cp: Json) => (typeof p.targetPort === 'string' ? cp.name === p.targetPort : cp.containerPort === (p.targetPort ?? p.port)));
        if (!ok) problems.push(`${name(m)}: port ${p.name ?? p.port} targets ${p.targetPort ?? p.port}, which no selected container declares`);
      }
    }
    if (m.kind === 'PodDisruptionBudget') {
      const selected = workloads(manifests).filter((w) => matches(spec.selector?.matchLabels, podLabels(w)));
      if (selected.length !== 1) problems.push(`${name(m)}: selects ${selected.length} workloads, should select one`);
    }
  }
  return problems;
}

/** The house rules for every workload: probed, sized, non-root, read-only, budgeted, not beyond the partitions. */
export function policyProblems(manifests: Manifest[], ctx: Pick<DeployContext, 'partitions'>): string[] {
  const problems: string[] = [];
  const pdbs = manifests.filter((m) => m.kind === 'PodDisruptionBudget');
  for (const w of workloads(manifests)) {
    const pod = podSpecOf(w)!;
    const replicas = (w as Json).spec.replicas;
    if (!Number.isInteger(replicas) || replicas < 1) problems.push(`${name(w)}: replicas must be set`);
    const consumer = pod.containers.some((c: Json) => serviceOf(c) !== 'ingest');
    if (consumer && replicas > ctx.partitions) problems.push(`${name(w)}: ${replicas} replicas, but only ${ctx.partitions} partitions to share`);
    if (pod.enableServiceLinks !== false) problems.push(`${name(w)}: enableServiceLinks must be false (Service links add *_PORT variables)`);
    if (pod.automountServiceAccountToken !== false) problems.push(`${name(w)}: automountServiceAccountToken must be false (no service talks to the API server)`);
    if (!pdbs.some((p) => matches((p as Json).spec.selector?.matchLabels, podLabels(w)))) problems.push(`${name(w)}: no PodDisruptionBudget`);
    for (const c of pod.containers) {
      const where = `${name(w)} container ${c.name}`;
      for (const probe of Object.keys(PROBES)) if (!c[probe]) problems.push(`${where}: no ${probe}`);
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory || !c.resources?.limits?.memory) {
        problems.push(`${where}: needs cpu and memory requests and a memory limit`);
      }
      const sc = c.securityContext ?? {};
      if ((sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot) !== true) problems.push(`${where}: must run as non-root`);
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: root filesystem must be read-only`);
      if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation must be false`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where}: must drop ALL capabilities`);
    }
  }
  return problems;
}
