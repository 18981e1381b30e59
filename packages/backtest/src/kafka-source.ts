import { readRanges, type createKafka, type OffsetRange } from '@alertbus/kafka';
import { decodeEnvelope, TOPICS, type AnyEnvelope } from '@alertbus/schemas';
import type { Logger } from 'pino';
import { type BacktestInput, type SilenceEvent, type CompiledRules, Backtest, type BacktestReport, mergeByRecordedAt, SLACK_INPUT_TYPES } from '@alertbus/routing';
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
  onEvent: (e: AnyEnvelope, partition: number, topic: string) => void,
): Promise<void> {
  await readRanges({
    kafka: opts.kafka,
    ranges,
    ...(opts.log ? { log: opts.log } : {}),
    onBatch: ({ topic, partition, records }) => {
      for (const r of records) {
        const decoded = decodeEnvelope(r.value, topic);
        if (decoded.ok) onEvent(decoded.event, partition, topic);
      }
    },
    onProgress: (p) => opts.onProgress?.({ phase, done: Number(p.covered), total: Number(p.total) }),
  });
}

/**
 * Backtests candidate rules against what the router did over [from, to), reading Kafka only (no producer
 * is ever created): the silences, the window's inputs (AlertReceived, the router's SilenceEndedTicks and InhibitionEndedTicks, and what people
 * did: PagerActionReceived beside them, every Slack input on slack.received.v1), incidents.v1 (the state before the window, folded, and the actual
 * decisions) and the command topics (the actual commands).
 */
export async function backtestFromKafka(opts: KafkaBacktestOptions): Promise<BacktestReport> {
  const { kafka, fromMs, toMs } = opts;
  const from = new Date(fromMs).toISOString();
  const to = new Date(toMs).toISOString();
  const bt = new Backtest(opts.rules, { from, to });

  await read(opts, 'silences', await topicRanges(kafka, TOPICS.silences), (e) => {
    if (e.type === 'SilenceCreated' || e.type === 'SilenceExpired') bt.silence(e as SilenceEvent);
  });

  // Per partition, the alerts topic's inputs, the Slack topic's and the router's silence-end and inhibition-end ticks, each in offset order:
  // the router reads them co-partitioned, so one partition's lists merge by recordedAt, and then the partitions do.
  const byPartition = new Map<number, { alerts: BacktestInput[]; slack: BacktestInput[]; ticks: BacktestInput[] }>();
  const inputIds = new Set<string>();
  const inputRanges = [
    ...(await topicRanges(kafka, TOPICS.alertsReceived, fromMs, toMs + WINDOW_END_SLACK_MS)),
    ...(await topicRanges(kafka, TOPICS.slackReceived, fromMs, toMs + WINDOW_END_SLACK_MS)),
    ...(await topicRanges(kafka, TOPICS.routerTicks, fromMs, toMs + WINDOW_END_SLACK_MS)),
  ];
  await read(opts, 'inputs', inputRanges, (e, partition, topic) => {
    if (e.recordedAt < from || e.recordedAt >= to) return;
    const taken =
      e.type === 'AlertReceived' ||
      e.type === 'PagerActionReceived' ||
      (topic === TOPICS.slackReceived && SLACK_INPUT_TYPES.has(e.type)) ||
      // A storm's summary ticks are not replayed: they only bring a summary message up to date.
      e.type === 'SilenceEndedTick' ||
      e.type === 'InhibitionEndedTick';
    if (!taken) return;
    // The raw payload is never looked at by decisions; dropping it keeps long windows in memory.
    const input = ('raw' in (e.data as object) ? { ...e, data: { ...(e.data as object), raw: null } } : e) as BacktestInput;
    let lists = byPartition.get(partition);
    if (!lists) byPartition.set(partition, (lists = { alerts: [], slack: [], ticks: [] }));
    (topic === TOPICS.slackReceived ? lists.slack : topic === TOPICS.routerTicks ? lists.ticks : lists.alerts).push(input);
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

  const perPartition = new Map([...byPartition].map(([p, l]) => [p, mergeByRecordedAt(new Map([[0, l.alerts], [1, l.slack], [2, l.ticks]]))] as const));
  const inputs = mergeByRecordedAt(perPartition);
  inputs.forEach((input, i) => {
    bt.input(input);
    if (i % 100 === 0 || i === inputs.length - 1) opts.onProgress?.({ phase: 'replay', done: i + 1, total: inputs.length });
  });
  return bt.report();
}
