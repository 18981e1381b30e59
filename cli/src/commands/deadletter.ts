/**
 * `alertbus deadletter list|redrive`: the records consumers set aside (invalid, or refused for good by Slack or
 * the pager, or out of retry budget), and putting them back where they came from. A redriven command goes
 * through its sink's ledger again: executed at most once in effect, never when it completed meanwhile. A letter
 * already redriven is not put back again unless asked (--again): the list says when and by whom it was.
 */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { Partitioners, type Kafka } from 'kafkajs';
import * as cli from '../support';
import { readRanges, redriveRecord, wholeTopicRanges } from '@alertbus/kafka';
import { describeRedrives, readRedrives, type Redrive } from './deadletter-redrives';
import { decodeEnvelope, TOPIC_PREFIX, TOPICS, type Envelope } from '@alertbus/schemas';

type DeadLetter = Envelope<'DeadLettered'>;

/** Every dead letter on the topic, once each (a consumer that re-emits one writes the same id again), oldest first. */
async function readDeadLetters(kafka: Kafka): Promise<DeadLetter[]> {
  const byId = new Map<string, DeadLetter>();
  await readRanges({
    kafka,
    ranges: await wholeTopicRanges(kafka, [TOPICS.deadLetter]),
    onBatch: (b) => {
      for (const r of b.records) {
        const decoded = decodeEnvelope(r.value, TOPICS.deadLetter);
        if (decoded.ok && decoded.event.type === 'DeadLettered' && !byId.has(decoded.event.id)) byId.set(decoded.event.id, decoded.event as DeadLetter);
      }
    },
  });
  return [...byId.values()].sort((a, b) => (a.recordedAt < b.recordedAt ? -1 : a.recordedAt > b.recordedAt ? 1 : a.id < b.id ? -1 : 1));
}

/** `--topic commands.pager.v1` names a topic as the README does; KAFKA_TOPIC_PREFIX is added when set. */
const topicFilter = (topic: string | undefined) => (dl: DeadLetter) =>
  topic === undefined || dl.data.origin.topic === topic || dl.data.origin.topic === `${TOPIC_PREFIX}${topic}`;

const lastError = (dl: DeadLetter) => dl.data.attempts.at(-1)?.error ?? '';
const origin = (dl: DeadLetter) => `${dl.data.origin.topic}[${dl.data.origin.partition}]@${dl.data.origin.offset}`;

interface ListOptions {
  topic?: string;
  json?: boolean;
  brokers?: string;
}

interface RedriveOptions {
  id?: string[];
  all?: boolean;
  again?: boolean;
  topic?: string;
  dryRun?: boolean;
  by?: string;
  brokers?: string;
}

/** Who redrives, for the record's header and the sink's log: --by, else ALERTBUS_USER, else the login name. */
export function redriver(by: string | undefined, env: Record<string, string | undefined> = process.env): string {
  const name = (by ?? env.ALERTBUS_USER ?? safeLogin()).trim();
  if (name === '') throw new Error('say who redrives: --by <name> (or ALERTBUS_USER); the record put back carries it');
  if (name.length > 200 || /[\u0000-\u001f\u007f]/.test(name)) throw new Error('--by must be a name of at most 200 characters, on one line');
  return name;
}

function safeLogin(): string {
  try {
    return userInfo().username;
  } catch {
    return '';
  }
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerDeadLetter(program: Command): void {
  const dl = program
    .command('deadletter')
    .description('records set aside on deadletter.v1 (invalid, refused for good, or out of retry budget), and redriving them');

  dl.command('list')
    .description('the dead letters, oldest first: where each came from, which consumer set it aside, and why')
    .option('--topic <topic>', 'only those from this topic, e.g. commands.pager.v1')
    .option('--json', 'print them as JSON (the DeadLettered events, each with `redrives`: when and by whom it was put back)')
    .option('--brokers <list>', 'Kafka brokers (default KAFKA_BROKERS)')
    .action(async (opts: ListOptions) => {
      const kafka = cli.cliKafka(opts.brokers);
      const found = (await readDeadLetters(kafka)).filter(topicFilter(opts.topic));
      const redrives = await readRedrives(kafka, found);
      const of = (d: DeadLetter): Redrive[] => redrives.get(d.id) ?? [];
      if (opts.json) return cli.printJson(cli.stdout, found.map((d) => ({ ...d, redrives: of(d) })));
      if (found.length === 0) return cli.stdout.write('no dead letters\n');
      cli.stdout.write(
        `${cli.table(
          ['id', 'at', 'consumer', 'from', 'key', 'redriven', 'reason'],
          found.map((d) => [
            d.id,
            d.recordedAt,
            d.data.consumer,
            origin(d),
            d.data.origin.key ?? '-',
            of(d).length > 0 ? `redriven ${describeRedrives(of(d))}` : '-',
            cli.clip(lastError(d), 100),
          ]),
        )}\n`,
      );
    });

  dl.command('redrive')
    .description(
      'put dead letters back on the topic and partition they came from, as they were; a redriven command is executed ' +
        'again through its sink\'s ledger (at most once in effect: never if it completed meanwhile, once per dead letter)',
    )
    .option('--id <id>', 'the dead letter to redrive (repeatable)', collect)
    .option('--all', 'every dead letter not redriven yet (with --topic: every one from that topic)')
    .option('--again', 'also put back dead letters already redriven (a sink still executes a command at most once per dead letter)')
    .option('--topic <topic>', 'with --all: only those from this topic')
    .option('--dry-run', 'say what would be redriven, write nothing')
    .option('--by <name>', 'who redrives, carried on each record put back (default ALERTBUS_USER, else your login name)')
    .option('--brokers <list>', 'Kafka brokers (default KAFKA_BROKERS)')
    .action(async (opts: RedriveOptions) => {
      if (!opts.all && (!opts.id || opts.id.length === 0)) throw new Error('say which: --id <dead letter id> (repeatable) or --all');
      if (opts.all && opts.id) throw new Error('--id and --all exclude each other');
      const by = redriver(opts.by);
      const kafka = cli.cliKafka(opts.brokers);
      const all = await readDeadLetters(kafka);
      let chosen: DeadLetter[];
      if (opts.all) chosen = all.filter(topicFilter(opts.topic));
      else {
        const missing = opts.id!.filter((id) => !all.some((d) => d.id === id));
        if (missing.length > 0) throw new Error(`no dead letter with id ${missing.join(', ')} (see \`alertbus deadletter list\`)`);
        chosen = all.filter((d) => opts.id!.includes(d.id));
      }
      // A letter put back twice is handled twice by its consumer (a sink answers from its ledger, others act again):
      // only when asked, and --all, which would otherwise put back every earlier letter at each run, skips them.
      const redrives = await readRedrives(kafka, chosen);
      const redriven = chosen.filter((d) => (redrives.get(d.id) ?? []).length > 0);
      if (!opts.again && redriven.length > 0) {
        if (!opts.all) {
          throw new Error(
            redriven.map((d) => `dead letter ${d.id} already redriven ${describeRedrives(redrives.get(d.id)!)}; --again to put it back once more`).join('\n'),
          );
        }
        cli.stdout.write(
          `not redriven: ${redriven.length} dead letter${redriven.length === 1 ? '' : 's'} already redriven (\`alertbus deadletter list\` says when and by whom); --again to put ${redriven.length === 1 ? 'it' : 'them'} back once more\n`,
        );
        chosen = chosen.filter((d) => !redriven.includes(d));
      }
      // A dead letter without its record's value (too large to keep) cannot put it back: said, and the others go on.
      const withoutValue = chosen.filter((d) => d.data.origin.valueOmitted !== undefined);
      for (const d of withoutValue) {
        const o = d.data.origin;
        cli.stdout.write(`not redriven ${d.id}: its record's value (${o.valueOmitted!.bytes} bytes) was too large to keep; the record is at ${o.topic}[${o.partition}] offset ${o.offset}\n`);
      }
      chosen = chosen.filter((d) => d.data.origin.valueOmitted === undefined);
      if (chosen.length === 0) return cli.stdout.write('nothing to redrive\n');
      if (!opts.dryRun) {
        const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
        await producer.connect();
        try {
          for (const d of chosen) {
            const r = redriveRecord(d, by);
            await producer.send({ topic: r.topic, acks: -1, messages: [{ ...r.message, partition: r.partition }] });
          }
        } finally {
          await producer.disconnect();
        }
      }
      const verb = opts.dryRun ? 'would redrive' : 'redriven';
      cli.stdout.write(`${chosen.map((d) => `${verb} ${d.id} → ${d.data.origin.topic}[${d.data.origin.partition}] (key ${d.data.origin.key ?? '-'})`).join('\n')}\n`);
      cli.stdout.write(`${chosen.length} dead letter${chosen.length === 1 ? '' : 's'} ${opts.dryRun ? 'would be redriven (dry run: nothing written)' : `redriven by ${by}`}\n`);
    });
}
