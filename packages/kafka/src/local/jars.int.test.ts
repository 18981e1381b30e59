/**
 * The path a machine without Maven takes: the pinned jars come from Maven Central over HTTPS into an empty
 * kafka folder, checksums verified, and a broker started from that folder serves clients. A jar whose
 * published checksum disagrees with the pin is refused and leaves no lib/ behind.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startLocalBroker, type LocalBroker } from './broker';
import { ensureKafkaJars, jarFileName, kafkaHome, readJarList } from './jars';

jest.setTimeout(300_000);

function kafkaFolder(): string {
  const home = mkdtempSync(join(tmpdir(), 'alertbus-kafka-home-'));
  for (const f of ['jars.json', 'log4j.properties']) copyFileSync(join(kafkaHome(), f), join(home, f));
  return home;
}

describe('ensureKafkaJars over HTTPS', () => {
  const homes: string[] = [];
  let broker: LocalBroker | undefined;

  afterAll(async () => {
    await broker?.stop();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  });

  it('fills an empty kafka folder with the pinned, checksummed jars, and a broker runs from it', async () => {
    const home = kafkaFolder();
    homes.push(home);
    const messages: string[] = [];
    const lib = await ensureKafkaJars({ home, localRepository: null, log: (m) => messages.push(m) });

    const list = readJarList(home);
    expect(readdirSync(lib).sort()).toEqual(list.jars.map(jarFileName).sort());
    for (const jar of list.jars) {
      const sha1 = createHash('sha1').update(readFileSync(join(lib, jarFileName(jar)))).digest('hex');
      expect(`${jarFileName(jar)} ${sha1}`).toBe(`${jarFileName(jar)} ${jar.sha1}`);
    }
    expect(messages.join('\n')).toMatch(new RegExp(`${list.jars.length} downloaded, 0 from the local Maven repository`));

    broker = await startLocalBroker({ home });
    const admin = new Kafka({ clientId: 'jars-int-test', brokers: broker.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const { brokers } = await admin.describeCluster();
      expect(brokers).toHaveLength(1);
    } finally {
      await admin.disconnect();
    }
  });

  it('refuses a jar whose published SHA-1 is not the pinned one, and installs nothing', async () => {
    const home = kafkaFolder();
    homes.push(home);
    const list = readJarList(home);
    const small = list.jars.find((j) => j.artifact === 'slf4j-api')!;
    writeFileSync(join(home, 'jars.json'), JSON.stringify({ repository: list.repository, jars: [{ ...small, sha1: 'f'.repeat(40) }] }));
    await expect(ensureKafkaJars({ home, localRepository: null })).rejects.toThrow(
      new RegExp(`slf4j-api-1\\.7\\.36\\.jar: .*\\.sha1 says ${small.sha1}, kafka/jars\\.json pins f{40}`),
    );
    expect(existsSync(join(home, 'lib'))).toBe(false);
    expect(readdirSync(home).filter((f) => f.startsWith('.lib'))).toEqual([]);
  });
});
