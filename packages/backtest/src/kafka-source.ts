import { readRanges, type createKafka, type OffsetRange } from '@alertbus/kafka';
import { decodeEnvelope, TOPICS, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import type { Logger } from 'pino';
import { type AlertInput, type SilenceEvent, type CompiledRules, Backtest, type BacktestReport, mergeByRecordedAt } from '@alertbus/routing';
import { topicRanges } from './ranges';

export interface BacktestProgress {
  phase: 'silences' | 'inputs' | 'history' | 'commands' | 'replay';
  done: number;
  total: number;
}

export interface KafkaBacktestOptions {
  kafka: ReturnType<typeof createKafka>;
  rules: CompiledRules;
  fromMs: number;
  toMs: number;
  log?: Logger;
  onProgress?: (p: BacktestProgress) => void;
}

/** Inputs recorded a little after the window's end are read too (and dropped), in case ingest clocks disagree. */
const WINDOW_END_SLACK_MS = 60_000;

async function read(
  opts: KafkaBacktestOptions,
  phase: BacktestProgress['phase'],
  ranges: OffsetRange[],
  onEvent: (e: AnyEnvelope, partition: number) => void,
): Promise<void> {
  await readRanges({
    kafka: opts.kafka,
    ranges,
    ...(opts.log ? { log: opts.log } : {}),
    onBatch: ({ topic, partition, records }) => {
      for (const r of records) {
        const decoded = decodeEnvelope(r.value, topic);
        if (decoded.ok) onEvent(decoded.event, partition);
      }
    },
    onProgress: (p) => opts.onProgress?.({ phase, done: Number(p.covered), total: Number(p.total) }),
  });
}

/**
 * Backtests candidate rules against what the router did over [from, to), reading Kafka only (no producer
 * is ever created): the silences, the window's AlertReceived inputs, incidents.v1 (the state before the
 * window, folded, and the actual decisions) and the command topics (the actual commands).
 */
export async function backtestFromKafka(opts: KafkaBacktestOptions): Promise<BacktestReport> {
  const { kafka, fromMs, toMs } = opts;
  const from = new Date(fromMs).toISOString();
  const to = new Date(toMs).toISOString();
  const bt = new Backtest(opts.rules, { from, to });

  await read(opts, 'silences', await topicRanges(kafka, TOPICS.silences), (e) => {
    if (e.type === 'SilenceCreated' || e.type === 'SilenceExpired') bt.silence(e as SilenceEvent);
  });

  const byPartition = new Map<number, AlertInput[]>();
  const inputIds = new Set<string>();
  await read(opts, 'inputs', await topicRanges(kafka, TOPICS.alertsReceived, fromMs, toMs + WINDOW_END_SLACK_MS), (e, partition) => {
    if (e.type !== 'AlertReceived' || e.recordedAt < from || e.recordedAt >= to) return;
    // The raw payload is never looked at by decisions; dropping it keeps long windows in memory.
    const input = { ...e, data: { ...e.data, raw: null } } as Envelope<'AlertReceived'>;
    let list = byPartition.get(partition);
    if (!list) byPartition.set(partition, (list = []));
    list.push(input);
    inputIds.add(e.id);
  });

  const caused = (e: AnyEnvelope) => e.causationId !== null && inputIds.has(e.causationId);
  await read(opts, 'history', await topicRanges(kafka, TOPICS.incidents), (e) => {
    if (e.recordedAt < from) bt.history(e);
    else if (caused(e)) bt.actualOutput(e);
  });
  const commandRanges = [
    ...(await topicRanges(kafka, TOPICS.slackCommands, fromMs)),
    ...(await topicRanges(kafka, TOPICS.pagerCommands, fromMs)),
  ];
  await read(opts, 'commands', commandRanges, (e) => {
    if (caused(e)) bt.actualOutput(e);
  });

  const inputs = mergeByRecordedAt(byPartition);
  inputs.forEach((input, i) => {
    bt.input(input);
    if (i % 100 === 0 || i === inputs.length - 1) opts.onProgress?.({ phase: 'replay', done: i + 1, total: inputs.length });
  });
  return bt.report();
}
