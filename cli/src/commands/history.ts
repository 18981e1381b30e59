/** `alertbus history rebuild|checksum`: rebuild the projection from the log and prove it matches. */
import type { Command } from 'commander';
import * as cli from '../support';
import { MIGRATIONS_DIR, checksum, formatChecksum, rebuildProjection, type Checksum, type RebuildProgress } from '@alertbus/projection';
import { createPool } from '@alertbus/common';

interface RebuildOptions {
  swap: boolean;
  group?: string;
  replaceOther?: boolean;
  brokers?: string;
  databaseUrl?: string;
  json?: boolean;
}

/** One progress line a second at most, on stderr, so stdout stays the result. */
function progressPrinter(): (p: RebuildProgress) => void {
  let last = 0;
  let lastPhase = '';
  return (p) => {
    const now = Date.now();
    if (p.phase === lastPhase && now - last < 1000 && p.covered !== p.total) return;
    last = now;
    lastPhase = p.phase;
    const pct = p.total > 0n ? ` ${((Number(p.covered) / Number(p.total)) * 100).toFixed(0)}% of ${p.total} offsets,` : '';
    cli.stderr.write(`rebuild: ${p.phase}${pct} ${p.records} records applied\n`);
  };
}

/** Which tables a rebuild and the live projection disagree on, with their row counts: where to start looking. */
export function tablesThatDiffer(rebuilt: Checksum, live: Checksum): string {
  const liveByTable = new Map(live.tables.map((t) => [t.table, t]));
  const differ = rebuilt.tables.flatMap((t) => {
    const l = liveByTable.get(t.table);
    if (l && l.sha256 === t.sha256 && l.rows === t.rows) return [];
    return [`${t.table} (rebuilt ${t.rows} rows, live ${l ? l.rows : 'none'})`];
  });
  return differ.length > 0 ? differ.join(', ') : 'the tables match, their list does not';
}

export function registerHistory(program: Command): void {
  const history = program.command('history').description('the history projection in Postgres: rebuild it from Kafka, checksum it');

  history
    .command('rebuild')
    .description(
      'replay every projected topic from the beginning into a separate schema, compare it with the live tables at the ' +
        'same offsets, and swap it in (one transaction; safe while the history service runs). Prints the checksum.',
    )
    .option('--no-swap', 'build and compare only; leave the live tables as they are')
    .option('--group <id>', 'the live consumer whose offsets are compared (default: the history group)')
    .option('--replace-other', "swap in even when the live tables hold another consumer's history (another KAFKA_TOPIC_PREFIX): refused otherwise")
    .option('--brokers <list>', 'Kafka brokers (default KAFKA_BROKERS)')
    .option('--database-url <url>', 'Postgres (default DATABASE_URL or postgres://postgres@127.0.0.1:5432/alertbus)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: RebuildOptions) => {
      const result = await rebuildProjection({
        databaseUrl: cli.cliDatabaseUrl(opts.databaseUrl),
        kafka: cli.cliKafka(opts.brokers),
        migrationsDir: MIGRATIONS_DIR,
        groupId: opts.group,
        swap: opts.swap,
        ...(opts.replaceOther ? { replaceOther: true } : {}),
        onProgress: progressPrinter(),
      });
      if (opts.json) return cli.printJson(cli.stdout, result);
      const verdict =
        result.matches === null
          ? `not compared with the live projection: ${result.notCompared}`
          : result.matches
            ? 'identical to the live projection at the same offsets'
            : `DIFFERENT from the live projection at the same offsets: ${tablesThatDiffer(result.checksum, result.live!)} (live total sha256:${result.live!.total})`;
      cli.stdout.write(
        [
          `rebuilt from ${result.records} records in ${(result.durationMs / 1000).toFixed(1)} s ` +
            `(${result.applied} applied, ${result.duplicates} duplicates, ${result.rejected} set aside as the live projector does)`,
          `rebuilt projection: ${verdict}`,
          result.swapped ? 'swapped in: the live tables are now the rebuilt ones' : 'not swapped in (--no-swap)',
          '',
          formatChecksum(result.checksum),
          '',
        ].join('\n'),
      );
      if (result.matches === false) process.exitCode = 1;
    });

  history
    .command('checksum')
    .description('print the checksum of the live projection tables (one consistent snapshot)')
    .option('--database-url <url>', 'Postgres (default DATABASE_URL or postgres://postgres@127.0.0.1:5432/alertbus)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { databaseUrl?: string; json?: boolean }) => {
      const pool = createPool(cli.cliDatabaseUrl(opts.databaseUrl), 1);
      try {
        const sum = await checksum(pool);
        if (opts.json) return cli.printJson(cli.stdout, sum);
        cli.stdout.write(`${formatChecksum(sum)}\n`);
      } finally {
        await pool.end();
      }
    });
}
