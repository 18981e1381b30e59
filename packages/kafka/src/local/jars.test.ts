/** The pinned broker classpath stays what kafka/pom.xml resolves to, and the parsers read what Maven writes. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasJars, jarFileName, kafkaHome, parseChecksumFile, parseDependencyList, readJarList, repositoryPath } from './jars';

describe('kafka/jars.json', () => {
  const list = readJarList();

  it('pins every dependency kafka/pom.xml declares, at the version it declares', () => {
    const pom = readFileSync(join(kafkaHome(), 'pom.xml'), 'utf8');
    const kafkaVersion = /<kafka\.version>([^<]+)</.exec(pom)![1];
    const declared = [...pom.matchAll(/<dependency>\s*<groupId>([^<]+)<\/groupId>\s*<artifactId>([^<]+)<\/artifactId>\s*<version>([^<]+)<\/version>/g)].map(
      ([, group, artifact, version]) => `${group}:${artifact}:${version!.replace('${kafka.version}', kafkaVersion!)}`,
    );
    expect(declared).toEqual(['org.apache.kafka:kafka_2.13:3.9.2', 'org.slf4j:slf4j-reload4j:1.7.36', 'ch.qos.reload4j:reload4j:1.2.25']);
    const pinned = new Set(list.jars.map((j) => `${j.group}:${j.artifact}:${j.version}`));
    for (const d of declared) expect(pinned).toContain(d);
  });

  it('is fetched from Maven Central over HTTPS, each jar once, each with a SHA-1', () => {
    expect(list.repository).toBe('https://repo1.maven.org/maven2');
    expect(list.jars.length).toBeGreaterThan(50);
    expect(new Set(list.jars.map(jarFileName)).size).toBe(list.jars.length);
    for (const j of list.jars) expect(j.sha1).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe('parseDependencyList', () => {
  it('reads `mvn dependency:list -DoutputScope=false` output, module notes and all, sorted', () => {
    const out = [
      '',
      'The following files have been resolved:',
      '   org.slf4j:slf4j-api:jar:1.7.36:compile -- module org.slf4j [auto]',
      '   com.yammer.metrics:metrics-core:jar:2.2.0:runtime -- module metrics.core (auto)',
      '   com.fasterxml.jackson.module:jackson-module-scala_2.13:jar:2.16.2:runtime',
      '',
    ].join('\n');
    expect(parseDependencyList(out)).toEqual([
      { group: 'com.fasterxml.jackson.module', artifact: 'jackson-module-scala_2.13', version: '2.16.2' },
      { group: 'com.yammer.metrics', artifact: 'metrics-core', version: '2.2.0' },
      { group: 'org.slf4j', artifact: 'slf4j-api', version: '1.7.36' },
    ]);
  });

  it('refuses a classified artifact (the jar file name would not say which one it is)', () => {
    expect(() => parseDependencyList('   io.netty:netty-transport-native-epoll:jar:linux-x86_64:4.1.105.Final:runtime')).toThrow(/classifier/);
  });
});

describe('checksum files and paths', () => {
  it.each([
    ['a671d4c2c65740d4a564687d9313ca50be6c10e5', 'a671d4c2c65740d4a564687d9313ca50be6c10e5'],
    ['A671D4C2C65740D4A564687D9313CA50BE6C10E5  kafka_2.13-3.9.2.jar\n', 'a671d4c2c65740d4a564687d9313ca50be6c10e5'],
    ['<html>404</html>', undefined],
    ['', undefined],
  ])('parseChecksumFile(%j) → %j', (text, expected) => {
    expect(parseChecksumFile(text)).toBe(expected);
  });

  it('lays a jar out as Maven repositories do', () => {
    expect(repositoryPath({ group: 'org.apache.kafka', artifact: 'kafka_2.13', version: '3.9.2' })).toBe(
      'org/apache/kafka/kafka_2.13/3.9.2/kafka_2.13-3.9.2.jar',
    );
  });

  it('hasJars: exactly the pinned files, no more and no fewer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'alertbus-jars-'));
    try {
      const jars = [
        { group: 'g', artifact: 'a', version: '1', sha1: '0'.repeat(40) },
        { group: 'g', artifact: 'b', version: '2', sha1: '0'.repeat(40) },
      ];
      expect(hasJars(join(dir, 'missing'), jars)).toBe(false);
      mkdirSync(join(dir, 'lib'));
      writeFileSync(join(dir, 'lib', 'a-1.jar'), '');
      expect(hasJars(join(dir, 'lib'), jars)).toBe(false);
      writeFileSync(join(dir, 'lib', 'b-2.jar'), '');
      expect(hasJars(join(dir, 'lib'), jars)).toBe(true);
      writeFileSync(join(dir, 'lib', 'b-1.jar'), ''); // an older version left behind would shadow classes
      expect(hasJars(join(dir, 'lib'), jars)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
