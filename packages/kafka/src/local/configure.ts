/** What a local broker is started with: its ports, its server.properties, its cluster id and JVM flags. */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

/** Free TCP ports on 127.0.0.1, all distinct (the listeners are held open until every port is known). */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      servers.push(srv);
      ports.push(
        await new Promise<number>((resolve, reject) => {
          srv.once('error', reject);
          srv.listen(0, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port));
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

/** A KRaft cluster id: 16 random bytes, URL-safe base64 without padding, never starting with '-'. */
export function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id; // Kafka's own generator avoids a leading '-' (looks like a CLI flag)
  }
}

/** The cluster id a formatted log dir already has (from meta.properties), if any. */
export async function existingClusterId(logDir: string): Promise<string | undefined> {
  const meta = await fsp.readFile(path.join(logDir, 'meta.properties'), 'utf8').catch(() => '');
  return /^cluster\.id=(\S+)\s*$/m.exec(meta)?.[1];
}

export function serverProperties(o: { port: number; controllerPort: number; logDir: string }): string {
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${o.controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${o.port},CONTROLLER://127.0.0.1:${o.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${o.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': o.logDir,
    // One node: internal topics with one partition and one replica.
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    // Transactions left open by a killed producer are aborted within a second of their timeout, not ten.
    'transaction.abort.timed.out.transaction.cleanup.interval.ms': 1_000,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'group.initial.rebalance.delay.ms': 0,
    'num.partitions': 3,
    'auto.create.topics.enable': false,
    // Small footprint. One thread each to receive and answer requests (network), to handle them (io) and to run the
    // periodic tasks (background): on two cores shared with the whole stack, one thread each used 17-46 % less broker
    // CPU per record than two (bench/README.md, "Ninth run — history and the broker").
    'num.network.threads': 1,
    'num.io.threads': 1,
    'num.recovery.threads.per.data.dir': 1,
    'background.threads': 1,
    'log.cleaner.threads': 1,
    'log.cleaner.dedupe.buffer.size': 33554432,
    // Test-sized segments; leave flushing to the OS page cache (the default), check retention often.
    'log.segment.bytes': 16 * 1024 * 1024,
    'offsets.topic.segment.bytes': 16 * 1024 * 1024,
    'transaction.state.log.segment.bytes': 16 * 1024 * 1024,
    'log.retention.hours': 24,
    'log.retention.check.interval.ms': 60_000,
    'log.flush.interval.messages': '9223372036854775807',
    'log.flush.interval.ms': '9223372036854775807',
    'log.cleaner.backoff.ms': 1_000,
    'log.initial.task.delay.ms': 0,
    'delete.topic.enable': true,
    'metadata.log.segment.bytes': 8 * 1024 * 1024,
    // The controller writes a no-op record to the metadata log when it has written nothing else for this long (default
    // 500 ms, for followers in a quorum to see the leader alive); each one is an append, a commit and a publish to the
    // broker in this process: two a second were nearly a third of an idle broker's CPU. One node has no follower to show it to.
    'metadata.max.idle.interval.ms': 5_000,
  };
  return (
    '# Written by packages/kafka/src/local/configure.ts: single-node KRaft broker for tests.\n' +
    Object.entries(props)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') +
    '\n'
  );
}

export function jvmArgs(home: string): string[] {
  return [
    '-Xms128m',
    '-Xmx512m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${path.join(home, 'log4j.properties')}`,
  ];
}

