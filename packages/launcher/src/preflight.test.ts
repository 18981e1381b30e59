/** What `npm start` says about a machine before it starts anything: tables of (facts → verdict and message). */
import {
  atLeast,
  checkJava,
  checkNode,
  chooseDatabase,
  formatProblem,
  installCommand,
  isProblem,
  parseJavaMajor,
  parseVersion,
  redactUrl,
  type Host,
} from './preflight';

const debianRoot: Host = { platform: 'linux', isRoot: true, packageManagers: ['apt-get'] };
const debianUser: Host = { platform: 'linux', isRoot: false, packageManagers: ['apt-get'] };
const fedoraUser: Host = { platform: 'linux', isRoot: false, packageManagers: ['dnf'] };
const mac: Host = { platform: 'darwin', isRoot: false, packageManagers: ['brew'] };
const bareLinux: Host = { platform: 'linux', isRoot: false, packageManagers: [] };

describe('versions', () => {
  it.each([
    ['20.10.0', [20, 10, 0]],
    ['v20.20.2', [20, 20, 2]],
    ['22', [22, 0, 0]],
    ['17.0.15+6', [17, 0, 15]],
    ['not a version', undefined],
  ])('parseVersion(%j) → %j', (text, expected) => {
    expect(parseVersion(text)).toEqual(expected);
  });

  it.each([
    [[20, 10, 0], true],
    [[20, 9, 9], false],
    [[20, 11, 0], true],
    [[21, 0, 0], true],
    [[18, 20, 0], false],
  ] as const)('%j ≥ 20.10.0: %s', (v, ok) => {
    expect(atLeast([...v], [20, 10, 0])).toBe(ok);
  });

  it.each([
    ['openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment (build 17.0.15+6-Debian-1deb12u1)', 17],
    ['java version "1.8.0_381"\nJava(TM) SE Runtime Environment (build 1.8.0_381-b09)', 8],
    ['openjdk version "11.0.22" 2024-01-16', 11],
    ['openjdk version "21" 2023-09-19', 21],
    ['openjdk version "25-ea" 2025-09-16', 25],
    ['Picked up JAVA_TOOL_OPTIONS: -Xmx1g\nopenjdk version "17.0.2" 2022-01-18', 17],
    ['bash: java: command not found', undefined],
  ])('parseJavaMajor reads %j as %j', (output, major) => {
    expect(parseJavaMajor(output)).toBe(major);
  });
});

describe('checkNode', () => {
  it('accepts 20.10 and later', () => {
    expect(checkNode('20.10.0', debianUser)).toBeUndefined();
    expect(checkNode('22.3.0', debianUser)).toBeUndefined();
  });

  it('names the version it found and how to get a newer one', () => {
    expect(formatProblem(checkNode('20.9.0', debianUser)!)).toBe(
      'missing: Node.js ≥ 20.10.0 (this is 20.9.0) — install: nvm install 20 (https://github.com/nvm-sh/nvm), or see https://nodejs.org',
    );
    expect(checkNode('18.19.1', mac)!.fix).toBe('install: brew install node@20');
  });
});

describe('checkJava', () => {
  it('accepts Java 17 and later', () => {
    expect(checkJava('openjdk version "17.0.15" 2025-04-15', debianUser)).toBeUndefined();
    expect(checkJava('openjdk version "21" 2023-09-19', debianUser)).toBeUndefined();
  });

  it.each([
    [undefined, debianUser, 'missing: a Java runtime ≥ 17 for the local Kafka broker (no `java` on PATH) — install: sudo apt-get install -y openjdk-17-jre-headless   (or set KAFKA_BROKERS to use a running Kafka)'],
    [undefined, debianRoot, 'missing: a Java runtime ≥ 17 for the local Kafka broker (no `java` on PATH) — install: apt-get install -y openjdk-17-jre-headless   (or set KAFKA_BROKERS to use a running Kafka)'],
    ['openjdk version "11.0.22" 2024-01-16', fedoraUser, 'missing: a Java runtime ≥ 17 for the local Kafka broker (found Java 11) — install: sudo dnf install -y java-17-openjdk-headless   (or set KAFKA_BROKERS to use a running Kafka)'],
    ['java version "1.8.0_381"', mac, 'missing: a Java runtime ≥ 17 for the local Kafka broker (found Java 8) — install: brew install openjdk@17   (or set KAFKA_BROKERS to use a running Kafka)'],
    ['garbage', bareLinux, 'missing: a Java runtime ≥ 17 for the local Kafka broker (found a `java` whose version is unreadable) — install: see https://adoptium.net   (or set KAFKA_BROKERS to use a running Kafka)'],
  ])('java -version %j on %j → one line', (output, host, line) => {
    expect(formatProblem(checkJava(output, host)!)).toBe(line);
  });
});

describe('chooseDatabase', () => {
  const localUrl = 'postgres://postgres@127.0.0.1:5432/alertbus';
  const base = { forceEmbedded: false, localAnswers: false, localUrl };

  it('an explicit DATABASE_URL always wins, even over --embedded-postgres', () => {
    const url = 'postgres://app:pw@db.internal:5432/alertbus';
    expect(chooseDatabase({ ...base, databaseUrl: url, localAnswers: true, forceEmbedded: true }, debianUser)).toEqual({ kind: 'explicit', url });
  });

  it('uses the server on 127.0.0.1:5432 when one answers', () => {
    expect(chooseDatabase({ ...base, localAnswers: true }, debianUser)).toEqual({ kind: 'local', url: localUrl });
  });

  it('runs the embedded server when nothing answers, or when it is forced', () => {
    expect(chooseDatabase(base, debianUser)).toEqual({ kind: 'embedded' });
    expect(chooseDatabase({ ...base, localAnswers: true, forceEmbedded: true }, debianUser)).toEqual({ kind: 'embedded' });
  });

  it('says what to install when there is no server and no embedded binaries for this platform', () => {
    const verdict = chooseDatabase({ ...base, embeddedUnavailable: 'no embedded PostgreSQL for linux-s390x (@embedded-postgres/linux-s390x is not installed)' }, debianUser);
    expect(isProblem(verdict)).toBe(true);
    expect(formatProblem(verdict as never)).toBe(
      'missing: a PostgreSQL server (nothing answers on 127.0.0.1:5432, and no embedded PostgreSQL for linux-s390x (@embedded-postgres/linux-s390x is not installed)) — install one: sudo apt-get install -y postgresql   (or set DATABASE_URL)',
    );
  });
});

describe('installCommand', () => {
  it.each([
    ['postgres', mac, 'brew install postgresql@17 && brew services start postgresql@17'],
    ['postgres', bareLinux, 'see https://www.postgresql.org/download/'],
    ['java', { platform: 'linux', isRoot: false, packageManagers: ['apk'] }, 'sudo apk add openjdk17-jre-headless'],
    ['java', { platform: 'win32', isRoot: false, packageManagers: ['winget'] }, 'winget install EclipseAdoptium.Temurin.17.JRE'],
  ] as const)('%s on %j → %s', (what, host, command) => {
    expect(installCommand(what, host as Host)).toBe(command);
  });
});

describe('redactUrl', () => {
  it.each([
    ['postgres://postgres:s3cr%3Ait@127.0.0.1:41234/alertbus', 'postgres://postgres:***@127.0.0.1:41234/alertbus'],
    ['postgres://postgres@127.0.0.1:5432/alertbus', 'postgres://postgres@127.0.0.1:5432/alertbus'],
    ['postgres://u@db/alertbus?sslmode=require&password=hunter2', 'postgres://u@db/alertbus?sslmode=require&password=***'],
    ['not a url with hunter2', '(unparseable URL)'],
  ])('%s → %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
    expect(redactUrl(url)).not.toMatch(/s3cr|hunter2/);
  });
});
