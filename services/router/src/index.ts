import { readFileSync } from 'node:fs';
import { createLogger, startOpsServer, StartWaits, untilReachable, type InfraRetryPolicy, type Logger } from '@alertbus/common';
import { createKafka, ensureTopics, installProduceEncoder } from '@alertbus/kafka';
import { TOPICS } from '@alertbus/schemas';
import { createRouterMetrics } from './metrics';
import { DEFAULT_PIPELINE_DEPTH, RouterProcessor, ROUTER_INPUT_TOPICS } from './processor';
import { RulesReloader, type ReloadResult, type ReloadTrigger } from './rules-reloader';
import { builtinRules, compileRules, openPermissionsWarning, RulesError, sha256Hex, type CompiledRules, type CompileOptions } from '@alertbus/routing';
import { RulesStore, type StoredRules } from './rules-store';
import { SilenceFollower } from './silence-follower';
import { SharedFactsFollower } from './shared-facts';
import { StormTicker } from './storm-ticker';
import { SilenceEndTicker } from './silence-end-ticker';
import { InhibitionEndTicker } from './inhibition-end-ticker';
import { keepShortLivedObjectsYoung } from './heap';

export interface RouterConfig {
  brokers: string[];
  /** ROUTING_RULES: path of the YAML rules file; unset → built-in defaults. */
  rulesPath?: string;
  /** SLACK_DEFAULT_CHANNEL, default #alerts. */
  defaultChannel?: string;
  /** ONCALL_SCHEDULE: whose on-call answers Slack requests when the rules name no schedule. */
  oncallSchedule?: string;
  /** HISTORY_PUBLIC_URL: the history UI as people reach it; alert messages then link to the incident's page. */
  historyPublicUrl?: string;
  /** SLACK_COMMAND (default /alertbus): the slash command the router's texts tell people to type. */
  slashCommand?: string;
  /** Ops server port (ROUTER_PORT, default 8082; 0 picks a free one). */
  port?: number;
  host?: string;
  /** ROUTER_INSTANCE_ID, default "0": makes the transactionalId, stable across restarts of this instance. */
  instanceId?: string;
  sessionTimeoutMs?: number;
  log?: Logger;
  /** Back-off while Kafka is unreachable (INFRA_RETRY_MIN/MAX_BACKOFF_MS); the router never gives up. */
  retry?: InfraRetryPolicy;
  /** ROUTER_STATE_RETENTION (default 7d): resolved incidents and Slack records are forgotten this long after, by event time. */
  stateRetentionMs?: number;
  /** SILENCE_MAX_DURATION (default 30d): the longest silence a slash command may set. */
  silenceMaxMs?: number;
  /** ROUTER_CHAOS_COMMIT_DELAY_MS, tests only: holds each transaction open this long before its commit. */
  chaosCommitDelayMs?: number;
  /** Reload the rules when the file changes (default true); SIGHUP / reloadRules() work either way. */
  watchRules?: boolean;
  /** ROUTER_SILENCES_WAIT_MS: longest wait for the silences topic before a batch is decided anyway (default 5000). */
  silencesCatchUpTimeoutMs?: number;
  /** ROUTER_SHARED_WAIT_MS: longest wait for router.shared.v1 (the other instances' incidents) before a batch is decided anyway (default 5000). */
  sharedCatchUpTimeoutMs?: number;
  /**
   * ROUTER_PIPELINE_DEPTH (default 6): batches of an input partition in flight at once. Above 1 a partition's next batch
   * is fetched and decided on the previous ones' uncommitted states while they commit; 1 waits for each commit.
   */
  pipelineDepth?: number;
  /** ROUTER_FETCH_BATCH_BYTES (default 64 KiB): most bytes of one input partition's records a fetch takes, so a batch. */
  fetchBatchBytes?: number;
  /**
   * Tests only: how often the storm ticker looks for quiet storms with stale summaries, and how long they must have been
   * quiet (default STORM_SUMMARY_INTERVAL_MS, 1 s); a test that needs a storm left stale passes a long one.
   */
  stormTickIntervalMs?: number;
  /** How often the silence-end ticker looks for firings kept under a silence that ended (default 5 s). */
  silenceEndTickIntervalMs?: number;
  /** How often the inhibition-end ticker looks (default INHIBITION_END_TICK_INTERVAL_MS, 5 s). */
  inhibitionEndTickIntervalMs?: number;
  /** Aborted to stop the router while it still waits for Kafka at start (SIGTERM then): startRouter rejects with StartAborted. */
  signal?: AbortSignal;
}

export interface Router {
  close(): Promise<void>;
  /** Resolves once the state of the first assigned partitions was restored; /readyz answers 200 from then on. */
  ready: Promise<void>;
  /** The rules in force now (they change on a successful reload). */
  readonly rulesVersion: string;
  readonly rules: CompiledRules;
  /** Reads and compiles the rules file again (what SIGHUP does); the old rules stay when it is invalid. */
  reloadRules(trigger?: ReloadTrigger): Promise<ReloadResult>;
  /** Base URL of the ops server (/healthz, /readyz, /metrics). */
  url: string;
  /** Retries of sendOffsets after CONCURRENT_TRANSACTIONS so far. */
  readonly concurrentTransactionRetries: number;
  /** The input partitions this instance holds now (restored). */
  readonly partitions: number[];
}

/**
 * Starts the router: rules file first, then Kafka. A file refused (invalid, empty, unreadable) is replaced by the last
 * good rules on router.rules.v1, said loudly; with none there, startRouter throws RulesError. Every version applied,
 * at start and on reload, is published there before it decides anything.
 */
export async function startRouter(config: RouterConfig): Promise<Router> {
  keepShortLivedObjectsYoung();
  // Outputs encoded in one pass (the same bytes as KafkaJS's): its own encoder was about a fifth of the router's CPU per decision.
  installProduceEncoder();
  const log = config.log ?? createLogger('router');
  const compile = {
    defaultChannel: config.defaultChannel ?? '#alerts',
    ...(config.oncallSchedule ? { oncallSchedule: config.oncallSchedule } : {}),
    ...(config.historyPublicUrl ? { historyPublicUrl: config.historyPublicUrl } : {}),
    ...(config.slashCommand ? { slashCommand: config.slashCommand } : {}),
  };
  const fromFile = readRulesFile(config.rulesPath, compile);
  if (fromFile.ok) log.info({ rules: fromFile.rules.origin, rulesVersion: fromFile.rules.version, count: fromFile.rules.rules.length }, 'routing rules loaded');
  const kafka = createKafka({ brokers: config.brokers, clientId: `alertbus-router-${config.instanceId ?? '0'}`, log });
  const metrics = createRouterMetrics();
  // The ops server answers from the start: while Kafka is waited for the router is alive, not ready, and says why.
  const waits = new StartWaits(metrics.registry, config.signal);
  let readiness: () => string | null = () => null;
  const ops = await startOpsServer(config.port ?? 8082, metrics.registry, { ready: waits.readiness(() => readiness()) }, config.host);
  const wait = { log, waits, ...(config.retry ? { policy: config.retry } : {}) };
  const store = new RulesStore({ kafka, log, ...(config.retry ? { retry: config.retry } : {}) });
  let rules: CompiledRules;
  try {
    await untilReachable('Kafka', () => ensureTopics(kafka), wait);
    await untilReachable('Kafka', () => checkCoPartitioned(kafka), wait);
    if (fromFile.ok) {
      if (fromFile.text) {
        const text = fromFile.text;
        await untilReachable('Kafka', () => store.publishOnce({ version: fromFile.rules.version, text, origin: fromFile.rules.origin }), wait);
      }
      rules = fromFile.rules;
    } else {
      rules = await lastGoodRules(fromFile.error, await untilReachable('Kafka', () => store.latest(), wait), compile);
      log.error(
        { rules: rules.origin, rulesVersion: rules.version, count: rules.rules.length, problems: fromFile.problems.split('\n') },
        `routing rules file refused at start; routing by the last good rules (version ${rules.version}) from ${TOPICS.routerRules} until the file is fixed:\n${fromFile.error.message}`,
      );
    }
  } catch (err) {
    await store.close();
    await ops.app.close();
    throw err;
  }
  // Said at start and at each reload while so: a deployment without permissions: lets anyone in Slack mute the monitoring.
  const warnIfOpen = (r: CompiledRules) => {
    const open = openPermissionsWarning(r);
    if (open) log.warn({ rulesVersion: r.version, permissions: 'none' }, open);
  };
  const reloader = new RulesReloader({
    path: config.rulesPath,
    ...compile,
    initial: rules,
    ...(fromFile.ok ? {} : { initialRejected: fromFile.rejectedKey }),
    log,
    publish: (text, compiled) => store.publish({ version: compiled.version, text, origin: compiled.origin }),
    onResult: (r, current) => {
      if (r.result === 'applied') warnIfOpen(current);
      metrics.rulesReloads.inc({ result: r.result });
      metrics.rulesInfo.reset();
      metrics.rulesInfo.set({ version: current.version }, 1);
      metrics.rulesFileRejected.set(r.result === 'rejected' ? 1 : 0);
    },
  });
  warnIfOpen(rules);
  metrics.rulesInfo.set({ version: rules.version }, 1);
  metrics.rulesFileRejected.set(fromFile.ok ? 0 : 1);
  if (!fromFile.ok) metrics.rulesReloads.inc({ result: 'rejected' });
  const silences = new SilenceFollower({
    kafka,
    log,
    onChange: (book) => metrics.silences.set(book.size),
    retry: config.retry,
    loopMetrics: metrics.loop,
  });
  // The processor is created just below; no fact arrives before the follower is started, after both exist.
  const shared = new SharedFactsFollower({
    kafka,
    log,
    onFact: (fact) => processor.applySharedFact(fact),
    writer: config.instanceId ?? '0',
    onOwnFact: (partition, alias): boolean => processor.ownSharedFact(partition, alias),
    gather: (): boolean => processor.holdsEveryPartition,
    retry: config.retry,
    loopMetrics: metrics.loop,
  });
  const processor = new RouterProcessor({
    kafka,
    log,
    rules: () => reloader.current,
    silences: {
      lookup: silences.book,
      catchUp: (ms, since) => silences.catchUp(ms, since),
      lookAhead: (since) => silences.lookAhead(since),
      prune: (beforeMs) => {
        const pruned = silences.book.prune(beforeMs);
        if (pruned > 0) metrics.silences.set(silences.book.size);
        return pruned;
      },
    },
    retentionMs: config.stateRetentionMs,
    silenceMaxMs: config.silenceMaxMs,
    silencesCatchUpTimeoutMs: config.silencesCatchUpTimeoutMs,
    shared,
    sharedCatchUpTimeoutMs: config.sharedCatchUpTimeoutMs,
    metrics,
    instanceId: config.instanceId ?? '0',
    sessionTimeoutMs: config.sessionTimeoutMs,
    retry: config.retry,
    chaosCommitDelayMs: config.chaosCommitDelayMs,
    pipelineDepth: config.pipelineDepth ?? DEFAULT_PIPELINE_DEPTH,
    fetchBatchBytes: config.fetchBatchBytes,
  });
  readiness = () => processor.problem() ?? silences.problem() ?? shared.problem() ?? (processor.isReady ? null : 'restoring state');
  waits.done();
  const ticker = new StormTicker({
    kafka,
    log,
    staleStorms: (partitionOf) => processor.staleStorms(partitionOf),
    onTicks: (n) => metrics.stormTicks.inc(n),
    ...(config.stormTickIntervalMs !== undefined ? { intervalMs: config.stormTickIntervalMs } : {}),
  });
  const silenceEndTicker = new SilenceEndTicker({
    kafka,
    log,
    silences: silences.book,
    ended: (book, nowMs) => processor.silencedFiringsEnded(book, nowMs),
    catchUp: () => silences.catchUp(config.silencesCatchUpTimeoutMs ?? 5_000),
    onTicks: (n) => metrics.silenceEndTicks.inc(n),
    ...(config.silenceEndTickIntervalMs !== undefined ? { intervalMs: config.silenceEndTickIntervalMs } : {}),
  });
  const inhibitionEndTicker = new InhibitionEndTicker({
    kafka,
    log,
    freed: (nowMs) => processor.inhibitedFiringsFreed(nowMs),
    catchUp: async () => processor.holdsEveryPartition || shared.catchUp(config.sharedCatchUpTimeoutMs ?? 5_000),
    onTicks: (n) => metrics.inhibitionEndTicks.inc(n),
    ...(config.inhibitionEndTickIntervalMs !== undefined ? { intervalMs: config.inhibitionEndTickIntervalMs } : {}),
  });
  try {
    await silences.start();
    await shared.start();
    await processor.start();
    ticker.start();
    silenceEndTicker.start();
    inhibitionEndTicker.start();
  } catch (err) {
    await ops.app.close();
    await processor.stop().catch(() => undefined);
    await silences.stop().catch(() => undefined);
    await shared.stop().catch(() => undefined);
    await store.close();
    throw err;
  }
  if (config.watchRules !== false) reloader.watch();
  let closed = false;
  return {
    async close() {
      if (closed) return;
      closed = true;
      reloader.close();
      await ticker.stop();
      await silenceEndTicker.stop();
      await inhibitionEndTicker.stop();
      await processor.stop();
      await silences.stop();
      await shared.stop();
      await store.close();
      await ops.app.close();
    },
    ready: processor.ready,
    get rulesVersion() {
      return reloader.current.version;
    },
    get rules() {
      return reloader.current;
    },
    reloadRules: (trigger = 'api') => reloader.reload(trigger),
    url: ops.url,
    get concurrentTransactionRetries() {
      return processor.concurrentTransactionRetries;
    },
    get partitions() {
      return processor.partitions;
    },
  };
}

type RulesFromFile =
  | { ok: true; rules: CompiledRules; /** The file's bytes; absent for the built-in defaults. */ text?: Buffer }
  | {
      ok: false;
      error: RulesError;
      /** Every problem, one per line with file:line:col (as a reload names them). */
      problems: string;
      /** What RulesReloader keeps of refused bytes (their hash, or the read error). */
      rejectedKey: string;
    };

/** ROUTING_RULES read and compiled (or the built-in defaults when unset), or why the file is refused. */
function readRulesFile(path: string | undefined, opts: CompileOptions): RulesFromFile {
  if (!path) return { ok: true, rules: builtinRules(opts) };
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (err) {
    const message = `cannot read routing rules ${path}: ${(err as Error).message}`;
    return { ok: false, error: new RulesError(message), problems: message, rejectedKey: `unreadable:${message}` };
  }
  const result = compileRules(text, path, opts);
  if (!result.ok) {
    return { ok: false, error: new RulesError(`invalid routing rules:\n${result.message}`), problems: result.message, rejectedKey: sha256Hex(text) };
  }
  return { ok: true, rules: result.rules, text };
}

/**
 * The rules to start with when the file is refused: the latest applied, from router.rules.v1, compiled with this
 * router's settings. None there (a first start ever), or none that compiles, is the file's error, as it always was.
 */
function lastGoodRules(refused: RulesError, stored: StoredRules | null, opts: CompileOptions): CompiledRules {
  if (!stored) throw new RulesError(`${refused.message}\n(no last good rules on ${TOPICS.routerRules} to start with instead)`);
  const origin = `${TOPICS.routerRules} (last good rules, applied from ${stored.origin || 'a rules file'})`;
  const result = compileRules(stored.text, origin, opts);
  if (!result.ok) {
    throw new RulesError(`${refused.message}\n(the last good rules on ${TOPICS.routerRules}, version ${stored.version}, do not compile either:\n${result.message})`);
  }
  return result.rules;
}

/**
 * State records go to the partition number their key's inputs come from, and a key must land on the same
 * partition number on every input topic (one instance holds its state): same partition counts everywhere.
 */
async function checkCoPartitioned(kafka: ReturnType<typeof createKafka>): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [...ROUTER_INPUT_TOPICS, TOPICS.routerState] });
    const count = (name: string) => topics.find((t) => t.name === name)?.partitions.length ?? 0;
    const [first, ...rest] = ROUTER_INPUT_TOPICS;
    for (const t of rest) {
      if (count(t) !== count(first)) {
        throw new Error(`${t} has ${count(t)} partitions but ${first} has ${count(first)}: the router's input topics must have the same number`);
      }
    }
    if (count(TOPICS.routerState) < count(first)) {
      throw new Error(
        `${TOPICS.routerState} has ${count(TOPICS.routerState)} partitions but ${first} has ${count(first)}: the state topic needs at least as many`,
      );
    }
  } finally {
    await admin.disconnect();
  }
}

export type { ReloadResult } from './rules-reloader';
export { keepShortLivedObjectsYoung } from './heap';
