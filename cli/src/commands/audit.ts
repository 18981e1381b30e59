/** `alertbus audit ALIAS`: an incident's whole story from the topics themselves, and whether the projection agrees. */
import type { Command } from 'commander';
import { auditAlias, historyUrl } from '@alertbus/history-client';
import * as cli from '../support';
import { formatStory } from '@alertbus/projection';

interface AuditOptions {
  url?: string;
  compare: boolean;
  scanAll?: boolean;
  brokers?: string;
  json?: boolean;
}

export function registerAudit(program: Command): void {
  program
    .command('audit <alias>')
    .description(
      'read every record of the alias from Kafka (inputs, decisions, commands, deliveries, dead letters), tell its ' +
        'story per incident, and compare it with the history projection; exits 1 when they disagree or could not be compared',
    )
    .option('--url <url>', 'history API to compare with (default HISTORY_URL or http://127.0.0.1:8081)')
    .option('--no-compare', 'only read the topics')
    .option('--scan-all', 'read every partition, not only the one the alias is keyed to')
    .option('--brokers <list>', 'Kafka brokers (default KAFKA_BROKERS)')
    .option('--json', 'print the story and the comparison as JSON')
    .action(async (alias: string, opts: AuditOptions) => {
      const result = await auditAlias({
        kafka: cli.cliKafka(opts.brokers),
        alias,
        historyUrl: opts.compare ? historyUrl(opts.url) : null,
        scanAll: opts.scanAll,
      });
      if (opts.json) cli.printJson(cli.stdout, result);
      else cli.stdout.write(`${formatStory(result.story, result.comparison, result.projectionNote)}\n`);
      if (result.comparison && !result.comparison.agrees) process.exitCode = 1;
      // Asked to compare and could not (history down, a wrong --url, no token): a script checking the exit code
      // must not read that as "the projection agrees".
      if (opts.compare && !result.comparison) {
        process.stderr.write(`alertbus audit: the projection was not compared: ${result.projectionNote} (--no-compare reads only the topics)\n`);
        process.exitCode = 1;
      }
    });
}
