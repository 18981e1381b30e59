/**
 * The local broker's classpath: the jars pinned in `kafka/jars.json` (Kafka 3.9.2's resolved runtime
 * classpath, from `kafka/pom.xml`), fetched from Maven Central over HTTPS into `kafka/lib/`. Every download
 * must match the SHA-1 Maven Central publishes beside it and the SHA-1 pinned in the list, so neither a
 * tampered mirror nor a changed list goes unnoticed. Maven is needed only to re-pin the list (`pin`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readdirSync, readFileSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { run } from './run';

export const MAVEN_CENTRAL = 'https://repo1.maven.org/maven2';

export interface PinnedJar {
  group: string;
  artifact: string;
  version: string;
  /** SHA-1 of the jar as Maven Central publishes it (`<jar>.sha1`). */
  sha1: string;
}

export interface JarList {
  repository: string;
  jars: PinnedJar[];
}

/** The repository's `kafka/` folder (pom.xml, jars.json, log4j.properties, lib/). */
export function kafkaHome(): string {
  const fromEnv = process.env.ALERTBUS_KAFKA_HOME;
  if (fromEnv) return path.resolve(fromEnv);
  // packages/kafka/{src,dist}/local -> repository root
  return path.resolve(__dirname, '..', '..', '..', '..', 'kafka');
}

export function readJarList(home = kafkaHome()): JarList {
  const file = path.join(home, 'jars.json');
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<JarList>;
  if (typeof parsed.repository !== 'string' || !Array.isArray(parsed.jars)) throw new Error(`${file}: expected { repository, jars: [...] }`);
  return { repository: parsed.repository, jars: parsed.jars };
}

export const jarFileName = (j: Pick<PinnedJar, 'artifact' | 'version'>): string => `${j.artifact}-${j.version}.jar`;

/** The jar's path inside a Maven repository (remote URL path or local `~/.m2/repository`). */
export function repositoryPath(j: Pick<PinnedJar, 'group' | 'artifact' | 'version'>): string {
  return [...j.group.split('.'), j.artifact, j.version, jarFileName(j)].join('/');
}

/** True when `dir` holds exactly the pinned jars (an older Kafka's jars left beside them would shadow classes). */
export function hasJars(dir: string, jars: readonly PinnedJar[]): boolean {
  let present: string[];
  try {
    present = readdirSync(dir).filter((f) => f.endsWith('.jar'));
  } catch {
    return false;
  }
  const wanted = new Set(jars.map(jarFileName));
  return present.length === wanted.size && present.every((f) => wanted.has(f));
}

/** `<hex>` or `<hex>  <file name>`, as the .sha1 files on Maven Central come. */
export function parseChecksumFile(text: string): string | undefined {
  const first = text.trim().split(/\s+/)[0]?.toLowerCase();
  return first && /^[0-9a-f]{40}$/.test(first) ? first : undefined;
}

/**
 * Parses the output of `mvn dependency:list -DoutputFile=… -DoutputScope=false`: one
 * `group:artifact:jar:version` per line (anything after ` -- ` is module information).
 */
export function parseDependencyList(text: string): Array<Omit<PinnedJar, 'sha1'>> {
  const out: Array<Omit<PinnedJar, 'sha1'>> = [];
  for (const raw of text.split('\n')) {
    const coords = raw.split(' -- ')[0]!.trim();
    const parts = coords.split(':');
    if (parts.length < 4 || parts[2] !== 'jar') continue;
    if (parts.length > 5) throw new Error(`unexpected dependency with a classifier: ${coords}`);
    const [group, artifact, , version] = parts as [string, string, string, string];
    out.push({ group, artifact, version });
  }
  return out.sort((a, b) => `${a.group}:${a.artifact}`.localeCompare(`${b.group}:${b.artifact}`));
}

async function sha1OfFile(file: string): Promise<string> {
  const hash = createHash('sha1');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** GET with a few retries on network errors and 5xx; 4xx fails at once. */
async function httpGet(url: string, timeoutMs: number): Promise<Response> {
  let lastError = '';
  for (let attempt = 0; attempt < 4; attempt++) {
    if (attempt > 0) await sleep(500 * 2 ** attempt);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      if (res.ok) return res;
      lastError = `HTTP ${res.status}`;
      await res.body?.cancel();
      if (res.status < 500 && res.status !== 429) break;
    } catch (e) {
      lastError = (e as Error).message;
    }
  }
  throw new Error(`GET ${url} failed: ${lastError}`);
}

export interface FetchJarsOptions {
  /** Remote repository; default the list's own (Maven Central). */
  repository?: string;
  /** A local Maven repository whose copies are reused when their SHA-1 matches the pin; null: always download. */
  localRepository?: string | null;
  log?: (m: string) => void;
  concurrency?: number;
}

export const defaultLocalRepository = (): string => path.join(os.homedir(), '.m2', 'repository');

/**
 * Puts every pinned jar into `dir` (which must exist), each checked against its pinned SHA-1 and, when it
 * is downloaded, against the SHA-1 Maven Central publishes. Returns how many were downloaded.
 */
export async function fetchJars(dir: string, list: JarList, opts: FetchJarsOptions = {}): Promise<{ downloaded: number; reused: number }> {
  const repository = (opts.repository ?? list.repository).replace(/\/+$/, '');
  if (!repository.startsWith('https://')) throw new Error(`refusing to fetch jars over anything but HTTPS: ${repository}`);
  const local = opts.localRepository === undefined ? defaultLocalRepository() : opts.localRepository;
  let downloaded = 0;
  let reused = 0;
  const queue = [...list.jars];
  const worker = async (): Promise<void> => {
    for (let jar = queue.shift(); jar; jar = queue.shift()) {
      const pinned = jar.sha1.toLowerCase();
      const target = path.join(dir, jarFileName(jar));
      const cached = local ? path.join(local, repositoryPath(jar)) : undefined;
      if (cached && existsSync(cached) && (await sha1OfFile(cached)) === pinned) {
        await fsp.copyFile(cached, target);
        reused++;
        continue;
      }
      const url = `${repository}/${repositoryPath(jar)}`;
      const published = parseChecksumFile(await (await httpGet(`${url}.sha1`, 30_000)).text());
      if (published !== pinned) {
        throw new Error(`${jarFileName(jar)}: ${url}.sha1 says ${published ?? '(unreadable)'}, kafka/jars.json pins ${pinned}`);
      }
      const res = await httpGet(url, 120_000);
      const hash = createHash('sha1');
      await pipeline(
        Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            hash.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(target),
      );
      const actual = hash.digest('hex');
      if (actual !== pinned) throw new Error(`${jarFileName(jar)}: downloaded file has SHA-1 ${actual}, expected ${pinned} (from ${url})`);
      downloaded++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 6, list.jars.length) }, worker));
  return { downloaded, reused };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface EnsureKafkaJarsOptions extends FetchJarsOptions {
  /** The `kafka/` folder holding jars.json and lib/; default kafkaHome(). */
  home?: string;
}

/**
 * Makes sure `kafka/lib/` holds the pinned classpath and returns that folder; fetches only when it does not.
 * Safe to call from several processes at once: a lock file keeps all but one from downloading, and the
 * jars go to a private temp folder renamed into place only when complete, so `lib/` is never seen half-filled.
 */
export async function ensureKafkaJars(opts: EnsureKafkaJarsOptions = {}): Promise<string> {
  const log = opts.log ?? (() => {});
  const home = opts.home ?? kafkaHome();
  const lib = path.join(home, 'lib');
  const list = readJarList(home);
  if (hasJars(lib, list.jars)) return lib;

  const lockPath = path.join(home, '.lib.lock');
  const deadline = Date.now() + 10 * 60_000;
  let announced = false;
  for (;;) {
    if (hasJars(lib, list.jars)) return lib;
    let lock: fsp.FileHandle | undefined;
    try {
      lock = await fsp.open(lockPath, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (lock) {
      try {
        await lock.writeFile(String(process.pid));
        await lock.close();
        if (hasJars(lib, list.jars)) return lib;
        await fetchInto(home, lib, list, opts, log);
        return lib;
      } finally {
        await fsp.rm(lockPath, { force: true });
      }
    }
    // Someone else holds the lock: wait for them, or take over a lock left by a dead process.
    const holder = Number((await fsp.readFile(lockPath, 'utf8').catch(() => '')).trim());
    if (holder > 0 && !processAlive(holder)) {
      await fsp.rm(lockPath, { force: true });
      continue;
    }
    if (!holder) {
      // Lock just created and not yet written, or written by something else: give it a moment, then judge by age.
      const st = await fsp.stat(lockPath).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > 30_000) await fsp.rm(lockPath, { force: true });
    }
    if (!announced) {
      log(`waiting for another process (pid ${holder || '?'}) to fetch the Kafka jars`);
      announced = true;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockPath}`);
    await sleep(500);
  }
}

async function fetchInto(home: string, lib: string, list: JarList, opts: FetchJarsOptions, log: (m: string) => void): Promise<void> {
  // Temp copies left by processes that died mid-fetch (we hold the lock, so none is in use).
  for (const name of await fsp.readdir(home)) {
    const owner = /^\.lib-tmp-(\d+)-/.exec(name)?.[1];
    if (owner && !processAlive(Number(owner))) await fsp.rm(path.join(home, name), { recursive: true, force: true });
  }
  const tmp = path.join(home, `.lib-tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const started = Date.now();
  log(`fetching ${list.jars.length} Kafka jars from ${opts.repository ?? list.repository} into ${lib}`);
  try {
    await fsp.mkdir(tmp);
    const { downloaded, reused } = await fetchJars(tmp, list, opts);
    for (let attempt = 0; ; attempt++) {
      try {
        await fsp.rename(tmp, lib); // atomic; also replaces an empty lib/
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || attempt > 2) throw e;
        if (hasJars(lib, list.jars)) return; // someone else installed a complete copy
        // A stale lib/ (another Kafka version, an interrupted manual copy): move it aside, then retry.
        const stale = `${lib}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
        await fsp.rename(lib, stale).catch(() => {});
        await fsp.rm(stale, { recursive: true, force: true });
      }
    }
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    log(`Kafka jars ready in ${secs} s (${downloaded} downloaded, ${reused} from the local Maven repository)`);
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Re-pins `kafka/jars.json` from `kafka/pom.xml` (after changing a version there): Maven resolves the runtime
 * classpath, Maven Central's .sha1 files give the checksums. The only step that needs Maven.
 */
export async function pinJars(opts: { home?: string; repository?: string; log?: (m: string) => void } = {}): Promise<JarList> {
  const home = opts.home ?? kafkaHome();
  const repository = opts.repository ?? MAVEN_CENTRAL;
  const out = path.join(os.tmpdir(), `alertbus-deps-${process.pid}-${randomBytes(4).toString('hex')}.txt`);
  try {
    await run(
      'mvn',
      ['-B', '-q', 'org.apache.maven.plugins:maven-dependency-plugin:3.7.1:list', '-DincludeScope=runtime', '-DoutputScope=false', `-DoutputFile=${out}`],
      home,
    );
    const deps = parseDependencyList(await fsp.readFile(out, 'utf8'));
    const jars: PinnedJar[] = [];
    for (const d of deps) {
      const url = `${repository}/${repositoryPath(d)}.sha1`;
      const sha1 = parseChecksumFile(await (await httpGet(url, 30_000)).text());
      if (!sha1) throw new Error(`${url}: no SHA-1 in it`);
      jars.push({ ...d, sha1 });
      opts.log?.(`${d.group}:${d.artifact}:${d.version} ${sha1}`);
    }
    const list: JarList = { repository, jars };
    await fsp.writeFile(path.join(home, 'jars.json'), `${JSON.stringify(list, null, 2)}\n`);
    return list;
  } finally {
    await fsp.rm(out, { force: true });
  }
}
