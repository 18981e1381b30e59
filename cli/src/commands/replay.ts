/** `alertbus replay --topic T --from T1 --to T2`: every record of a time window, decoded and validated, for auditors. */
import type { Command } from 'commander';
import * as cli from '../support';
import { formatRecords, readWindow, resolveTopic } from '@alertbus/projection';

interface ReplayOptions {
  topic: string;
  from: string;
  to?: string;
  brokers?: string;
  json?: boolean;
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description(
      'print every record of a topic written in [--from, --to) with its partition, offset and key, decoded and ' +
        'checked against its schema; records that fail are listed with the reason, never skipped',
    )
    .requiredOption('--topic <topic>', 'e.g. incidents.v1, alerts.received.v1, deliveries.v1')
    .requiredOption('--from <time>', 'start, ISO 8601 (record timestamps: the events\' recordedAt)')
    .option('--to <time>', 'end (exclusive), ISO 8601; default: now')
    .option('--brokers <list>', 'Kafka brokers (default KAFKA_BROKERS)')
    .option('--json', 'print the records as JSON')
    .action(async (opts: ReplayOptions) => {
      const topic = resolveTopic(opts.topic);
      const fromMs = cli.parseInstant('--from', opts.from);
      const toMs = opts.to === undefined ? undefined : cli.parseInstant('--to', opts.to);
      if (toMs !== undefined && toMs <= fromMs) throw new Error('--to must be after --from');
      const records = await readWindow(cli.cliKafka(opts.brokers), topic, fromMs, toMs);
      if (opts.json) {
        return cli.printJson(cli.stdout, {
          topic,
          from: new Date(fromMs).toISOString(),
          to: toMs === undefined ? null : new Date(toMs).toISOString(),
          records: records.map((r) => ({ ...r, valid: r.event !== null })),
        });
      }
      cli.stdout.write(`${topic} from ${new Date(fromMs).toISOString()} to ${toMs === undefined ? 'now' : new Date(toMs).toISOString()}\n`);
      cli.stdout.write(`${formatRecords(records)}\n`);
    });
}
