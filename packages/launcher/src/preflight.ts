/**
 * What `npm start` checks before it starts anything: Node, a Java runtime for the local Kafka broker, and a
 * PostgreSQL to use. Each missing piece becomes one line saying what is missing and the command that
 * installs it on this machine. The decisions are pure functions of the facts; gathering the facts is apart.
 */
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';

export const MIN_NODE: Version = [20, 10, 0];
export const MIN_JAVA_MAJOR = 17;

export type Version = [major: number, minor: number, patch: number];

/** A missing or unusable prerequisite: what it is, and how to get it. */
export interface Problem {
  what: string;
  fix: string;
}

export const formatProblem = (p: Problem): string => `missing: ${p.what} — ${p.fix}`;

/** The machine, as far as install commands go. */
export interface Host {
  platform: NodeJS.Platform;
  isRoot: boolean;
  /** Package managers found on PATH. */
  packageManagers: ReadonlyArray<'apt-get' | 'dnf' | 'yum' | 'apk' | 'brew' | 'winget'>;
}

/** `20.10.0`, `v20.10.0`, `17.0.15+6` → [major, minor, patch]. */
export function parseVersion(text: string): Version | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] : undefined;
}

export function atLeast(v: Version, min: Version): boolean {
  for (let i = 0; i < 3; i++) if (v[i] !== min[i]) return v[i]! > min[i]!;
  return true;
}

/**
 * The major version in `java -version` output: `openjdk version "17.0.15" 2025-04-15`, `java version
 * "1.8.0_381"` (Java 8), `openjdk version "21" 2023-09-19`, `openjdk version "25-ea"`.
 */
export function parseJavaMajor(output: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?[^"]*"/.exec(output);
  if (!m) return undefined;
  const first = Number(m[1]);
  return first === 1 && m[2] !== undefined ? Number(m[2]) : first;
}

const sudo = (host: Host) => (host.platform !== 'win32' && host.platform !== 'darwin' && !host.isRoot ? 'sudo ' : '');

/** The one command that installs `what` on this host, or where to get it. */
export function installCommand(what: 'java' | 'node' | 'postgres', host: Host): string {
  const has = (pm: Host['packageManagers'][number]) => host.packageManagers.includes(pm);
  if (what === 'node') {
    if (host.platform === 'darwin' && has('brew')) return 'brew install node@20';
    if (host.platform === 'win32' && has('winget')) return 'winget install OpenJS.NodeJS.LTS';
    return 'nvm install 20 (https://github.com/nvm-sh/nvm), or see https://nodejs.org';
  }
  if (what === 'java') {
    if (host.platform === 'darwin') return has('brew') ? 'brew install openjdk@17' : 'see https://adoptium.net';
    if (host.platform === 'win32') return has('winget') ? 'winget install EclipseAdoptium.Temurin.17.JRE' : 'see https://adoptium.net';
    if (has('apt-get')) return `${sudo(host)}apt-get install -y openjdk-17-jre-headless`;
    if (has('dnf')) return `${sudo(host)}dnf install -y java-17-openjdk-headless`;
    if (has('yum')) return `${sudo(host)}yum install -y java-17-openjdk-headless`;
    if (has('apk')) return `${sudo(host)}apk add openjdk17-jre-headless`;
    return 'see https://adoptium.net';
  }
  if (host.platform === 'darwin') return has('brew') ? 'brew install postgresql@17 && brew services start postgresql@17' : 'see https://www.postgresql.org/download/';
  if (has('apt-get')) return `${sudo(host)}apt-get install -y postgresql`;
  if (has('dnf')) return `${sudo(host)}dnf install -y postgresql-server && ${sudo(host)}postgresql-setup --initdb && ${sudo(host)}systemctl start postgresql`;
  return 'see https://www.postgresql.org/download/';
}

const show = (v: Version) => v.join('.');

export function checkNode(version: string, host: Host): Problem | undefined {
  const v = parseVersion(version);
  if (v && atLeast(v, MIN_NODE)) return undefined;
  return {
    what: `Node.js ≥ ${show(MIN_NODE)} (this is ${version})`,
    fix: `install: ${installCommand('node', host)}`,
  };
}

/** `javaOutput` is what `java -version` printed, or undefined when there is no `java` to run. */
export function checkJava(javaOutput: string | undefined, host: Host): Problem | undefined {
  const major = javaOutput === undefined ? undefined : parseJavaMajor(javaOutput);
  if (major !== undefined && major >= MIN_JAVA_MAJOR) return undefined;
  const found =
    javaOutput === undefined ? 'no `java` on PATH' : major === undefined ? 'found a `java` whose version is unreadable' : `found Java ${major}`;
  return {
    what: `a Java runtime ≥ ${MIN_JAVA_MAJOR} for the local Kafka broker (${found})`,
    fix: `install: ${installCommand('java', host)}   (or set KAFKA_BROKERS to use a running Kafka)`,
  };
}

/** Which PostgreSQL `npm start` uses. */
export type DatabaseChoice =
  | { kind: 'explicit'; url: string }
  | { kind: 'local'; url: string }
  | { kind: 'embedded' };

export interface DatabaseFacts {
  /** DATABASE_URL, when set. */
  databaseUrl?: string;
  /** `--embedded-postgres`: use the embedded server even when a local one answers. */
  forceEmbedded: boolean;
  /** Something answers on 127.0.0.1:5432. */
  localAnswers: boolean;
  /** The embedded server's binaries are installed for this platform (undefined: say why not). */
  embeddedUnavailable?: string;
  localUrl: string;
}

/** An explicit DATABASE_URL always wins; then the local server, unless the embedded one is forced or nothing answers. */
export function chooseDatabase(f: DatabaseFacts, host: Host): DatabaseChoice | Problem {
  if (f.databaseUrl) return { kind: 'explicit', url: f.databaseUrl };
  if (f.localAnswers && !f.forceEmbedded) return { kind: 'local', url: f.localUrl };
  if (f.embeddedUnavailable === undefined) return { kind: 'embedded' };
  return {
    what: `a PostgreSQL server (${f.forceEmbedded ? '--embedded-postgres was given' : 'nothing answers on 127.0.0.1:5432'}, and ${f.embeddedUnavailable})`,
    fix: `install one: ${installCommand('postgres', host)}   (or set DATABASE_URL)`,
  };
}

export const isProblem = (x: unknown): x is Problem => typeof x === 'object' && x !== null && 'what' in x && 'fix' in x;

/** Shows a URL without its password (user name, host, port and database stay). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const key of [...u.searchParams.keys()]) if (/pass|secret|token/i.test(key)) u.searchParams.set(key, '***');
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

// ---- Facts from this machine ----

function onPath(cmd: string): boolean {
  const probe = process.platform === 'win32' ? spawnSync('where', [cmd]) : spawnSync('sh', ['-c', `command -v ${cmd}`]);
  return probe.status === 0;
}

export function thisHost(): Host {
  const managers = (['apt-get', 'dnf', 'yum', 'apk', 'brew', 'winget'] as const).filter(onPath);
  return { platform: process.platform, isRoot: process.getuid?.() === 0, packageManagers: managers };
}

/** What `java -version` prints (it writes to stderr), or undefined when no `java` runs. */
export function javaVersionOutput(): string | undefined {
  const r = spawnSync('java', ['-version'], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) return undefined;
  return `${r.stderr ?? ''}${r.stdout ?? ''}`;
}

/** True when a TCP connection to host:port is accepted within the timeout. */
export function portAnswers(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
