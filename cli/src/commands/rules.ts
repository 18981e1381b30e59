/**
 * `alertbus rules check | test | backtest | schema`: validate a rules file with the router's own messages,
 * explain what a sample would do, and replay a window of real history through candidate rules.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createKafka } from '@alertbus/kafka';
import { ConfigError, createStderrLogger, envBrokers } from '@alertbus/common';
import { backtestFromKafka, type BacktestProgress } from '@alertbus/backtest';
import { compileRules, explainAlert, explainSlackMessage, formatBacktest, formatExplanation, type Explanation } from '@alertbus/routing';
import { deriveId, parseDuration, RulesFile, schemaAjv, validateEnvelope, type AlertSource, type Envelope } from '@alertbus/schemas';
import {
  AlertmanagerPayload,
  GenericPayload,
  GrafanaPayload,
  normaliseAlertmanager,
  normaliseGeneric,
  normaliseGrafana,
  toAlertEnvelopes,
  type NormaliseResult,
} from '@alertbus/normalise';
import { hasZone, isCalendarDay } from '../support';

/** A problem the user can fix: printed as is, exit code 1 (or 2 for usage). */
class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
const defaultChannel = () => process.env.SLACK_DEFAULT_CHANNEL || '#alerts';

function readText(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CliError(`cannot read ${what} ${file}: ${(err as Error).message}`);
  }
}

function compileFile(file: string) {
  return compileRules(readText(file, 'rules file'), file, { defaultChannel: defaultChannel() });
}

function loadRules(file: string) {
  const r = compileFile(file);
  if (!r.ok) throw new CliError(`invalid routing rules:\n${r.message}`);
  return r.rules;
}

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(readText(file, what).toString('utf8'));
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${what} ${file} is not JSON: ${(err as Error).message}`);
  }
}

// ------------------------------------------------------------------------------------------------ check

function check(file: string, opts: { json?: boolean }): void {
  const r = compileFile(file);
  if (opts.json) {
    out(JSON.stringify(r.ok ? { ok: true, rulesVersion: r.rules.version, rules: r.rules.rules.length, inhibit: r.rules.inhibit.length, stormControl: !!r.rules.stormControl } : { ok: false, problems: r.problems }, null, 2));
  } else if (r.ok) {
    out(`${file}: OK (rules version ${r.rules.version}; ${r.rules.rules.length} top-level rules, ${r.rules.inhibit.length} inhibit rules, storm control ${r.rules.stormControl ? 'on' : 'off'})`);
  } else {
    process.stderr.write(`${r.message}\n`);
  }
  if (!r.ok) process.exitCode = 1;
}

// ------------------------------------------------------------------------------------------------ test

type PayloadKind = AlertSource | 'event';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Which webhook a sample came through, from its shape (Grafana adds orgId and per-alert URLs/values to Alertmanager's). */
function detectKind(payload: unknown): PayloadKind {
  if (!isObject(payload)) throw new CliError('the sample must be a JSON object (a webhook payload or an AlertReceived event)');
  if (payload.type === 'AlertReceived' && isObject(payload.data)) return 'event';
  if (Array.isArray(payload.alerts)) {
    const alerts = payload.alerts.filter(isObject);
    const grafanaish = ['valueString', 'dashboardURL', 'panelURL', 'silenceURL', 'values', 'imageURL'];
    if ('orgId' in payload || alerts.some((a) => grafanaish.some((k) => k in a))) return 'grafana';
    if (alerts.length > 0 && alerts.every((a) => typeof a.title === 'string')) return 'generic';
    return 'alertmanager';
  }
  if (typeof payload.title === 'string') return 'generic';
  throw new CliError('cannot tell what the sample is: expected an Alertmanager or Grafana webhook, a generic alert, or an AlertReceived event (or say --source)');
}

const PAYLOAD = {
  alertmanager: { schema: AlertmanagerPayload, normalise: (p: unknown) => normaliseAlertmanager(p as never) },
  grafana: { schema: GrafanaPayload, normalise: (p: unknown) => normaliseGrafana(p as never) },
  generic: { schema: GenericPayload, normalise: (p: unknown) => normaliseGeneric(p as never) },
} as const;

/** The sample as the AlertReceived events ingest would have written (same normalisers), recorded at `at`. */
function toEvents(payload: unknown, kind: PayloadKind, at: string): Envelope<'AlertReceived'>[] {
  if (kind === 'event') {
    const v = validateEnvelope(payload);
    if (!v.ok || v.event.type !== 'AlertReceived') throw new CliError(`not a valid AlertReceived event: ${v.ok ? v.event.type : v.error}`);
    return [v.event as Envelope<'AlertReceived'>];
  }
  const spec = PAYLOAD[kind];
  const validate = schemaAjv.compile(spec.schema);
  if (!validate(payload)) {
    throw new CliError(`not a valid ${kind} payload: ${schemaAjv.errorsText(validate.errors, { dataVar: 'payload' })}`);
  }
  const result: NormaliseResult = spec.normalise(payload);
  if (!result.ok) throw new CliError(`not a valid ${kind} payload: ${result.message}`);
  let n = 0;
  return toAlertEnvelopes(result.alerts, { source: kind, recordedAt: at, newId: () => deriveId('alertbus-rules-test', at, n++) });
}

/** A Slack Events API body (event_callback) or a SlackMessageReceived event → what the rules match on. */
function slackMessageOf(payload: unknown): { channel: string; user: string; text: string } {
  if (!isObject(payload)) throw new CliError('the Slack sample must be a JSON object');
  const inner = isObject(payload.event) ? payload.event : isObject(payload.data) ? payload.data : payload;
  const message = isObject(inner.message) ? inner.message : {};
  const channel = inner.channel ?? message.channel;
  const user = inner.user ?? message.user ?? '';
  const text = inner.text ?? message.text ?? '';
  if (typeof channel !== 'string') throw new CliError('the Slack sample has no event.channel');
  return { channel, user: String(user), text: String(text) };
}

interface TestOptions {
  alert?: string;
  slack?: string;
  text?: string;
  user?: string;
  channel?: string;
  groups?: string;
  source?: string;
  at?: string;
  json?: boolean;
}

function test(file: string, opts: TestOptions): void {
  if ([opts.alert, opts.slack, opts.text].filter((o) => o !== undefined).length !== 1) {
    throw new CliError('give exactly one of --alert FILE, --slack FILE and --text TEXT', 2);
  }
  const rules = loadRules(file);
  const at = opts.at ? parseInstant('--at', opts.at, Date.now()) : Date.now();
  const explanations: Array<{ heading: string; x: Explanation }> = [];
  if (opts.alert) {
    const payload = readJson(opts.alert, 'sample');
    const kind = (opts.source as PayloadKind | undefined) ?? detectKind(payload);
    if (!['alertmanager', 'grafana', 'generic', 'event'].includes(kind)) throw new CliError(`--source must be alertmanager, grafana, generic or event, not ${kind}`, 2);
    const events = toEvents(payload, kind, new Date(at).toISOString());
    events.forEach((e, i) => explanations.push({ heading: `alert ${i + 1} of ${events.length} (${kind}):`, x: explainAlert(rules, e) }));
  } else {
    const msg = opts.text !== undefined ? { channel: opts.channel ?? 'C0TEST', user: opts.user ?? 'U0TEST', text: opts.text } : slackMessageOf(readJson(opts.slack!, 'Slack sample'));
    const userGroups = opts.groups?.split(',').map((g) => g.trim()).filter(Boolean);
    explanations.push({ heading: 'Slack message:', x: explainSlackMessage(rules, { kind: 'slack-message', ...msg, ...(userGroups ? { userGroups } : {}) }) });
  }
  if (opts.json) {
    out(JSON.stringify({ rulesFile: file, rulesVersion: rules.version, inputs: explanations.map((e) => e.x) }, null, 2));
    return;
  }
  out(`rules ${file} (version ${rules.version.slice(0, 12)})\n`);
  out(explanations.map((e) => formatExplanation(forTerminal(e.x), e.heading)).join('\n\n'));
}

const SLACK_ENTITIES: Record<string, string> = { '&lt;': '<', '&gt;': '>', '&amp;': '&' };

/** Slack's three escapes undone, in one pass (`&amp;lt;` stays `&lt;`, as Slack shows it). */
export function unescapeSlack(text: string): string {
  return text.replace(/&(?:lt|gt|amp);/g, (m) => SLACK_ENTITIES[m]!);
}

/**
 * The explanation as a terminal shows it: the Slack texts it would post are escaped for Slack (`oncall &lt;schedule&gt;`),
 * shown here as Slack would show them (`oncall <schedule>`). Display only: `--json` keeps the texts as posted.
 */
function forTerminal(x: Explanation): Explanation {
  const events = x.events.map((e) => {
    const d = e.data as Record<string, unknown>;
    return typeof d.text === 'string' ? ({ ...e, data: { ...d, text: unescapeSlack(d.text) } } as typeof e) : e;
  });
  return { ...x, events };
}

// ------------------------------------------------------------------------------------------------ backtest

/** ISO 8601, `now`, or `now-<duration>` (e.g. now-7d, now-90m). */
export function parseInstant(flag: string, text: string, now: number): number {
  if (text === 'now') return now;
  const rel = text.startsWith('now-') ? parseDuration(text.slice(4)) : null;
  if (rel !== null) return now - rel;
  const ms = Date.parse(text);
  if (!isCalendarDay(text) || Number.isNaN(ms)) {
    throw new CliError(`${flag} must be an ISO 8601 time (2025-03-01T10:00:00Z), "now" or now-<duration> such as now-7d, not ${JSON.stringify(text)}`, 2);
  }
  if (!hasZone(text)) throw new CliError(`${flag} must say its zone, as 2025-03-01T10:00:00Z (UTC) or +01:00, not ${JSON.stringify(text)}`, 2);
  return ms;
}

/** A progress bar on stderr: redrawn in place on a terminal, a line per 10% otherwise. */
function progressBar(tty: boolean): { update(p: BacktestProgress): void; done(): void } {
  let phase = '';
  let lastStep = -1;
  return {
    update(p) {
      const ratio = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
      if (tty) {
        if (p.phase !== phase && phase !== '') process.stderr.write('\n');
        const width = 30;
        const filled = Math.round(ratio * width);
        process.stderr.write(`\r${p.phase.padEnd(9)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}%  ${p.done}/${p.total}  `);
      } else {
        const step = Math.floor(ratio * 10);
        if (p.phase === phase && step === lastStep) return;
        process.stderr.write(`${p.phase} ${Math.round(ratio * 100)}% (${p.done}/${p.total})\n`);
        lastStep = step;
      }
      phase = p.phase;
    },
    done() {
      if (tty && phase !== '') process.stderr.write('\n');
    },
  };
}

interface BacktestOptions {
  from: string;
  to?: string;
  json?: boolean;
  progress?: boolean;
  brokers?: string;
}

async function backtest(file: string, opts: BacktestOptions): Promise<void> {
  const rules = loadRules(file);
  const now = Date.now();
  const fromMs = parseInstant('--from', opts.from, now);
  const toMs = opts.to === undefined ? now : parseInstant('--to', opts.to, now);
  if (toMs <= fromMs) throw new CliError('--to must be after --from', 2);
  const listed = (opts.brokers ?? process.env.KAFKA_BROKERS ?? '').trim();
  if (listed === '') throw new CliError('no Kafka brokers: set KAFKA_BROKERS or pass --brokers host:port', 2);
  let brokers: string[];
  try {
    brokers = envBrokers({ ...process.env, KAFKA_BROKERS: listed });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(`${err.message} (set KAFKA_BROKERS or pass --brokers host:port)`, 2);
    throw err;
  }
  // On stderr: stdout is the report (JSON with --json), which a warning must not break.
  const log = createStderrLogger('alertbus-rules', process.env.LOG_LEVEL ?? 'warn');
  const kafka = createKafka({ brokers, clientId: 'alertbus-rules-backtest', log });
  const showProgress = opts.progress === true || (process.stderr.isTTY === true && !opts.json);
  const bar = showProgress ? progressBar(process.stderr.isTTY === true) : null;
  const report = await backtestFromKafka({ kafka, rules, fromMs, toMs, log, ...(bar ? { onProgress: (p) => bar.update(p) } : {}) });
  bar?.done();
  out(opts.json ? JSON.stringify({ rulesFile: file, ...report }, null, 2) : formatBacktest(report, file));
}

// ------------------------------------------------------------------------------------------------ wiring

/** Runs an action; a CliError is printed without a stack and sets the exit code. */
function run<A extends unknown[]>(fn: (...args: A) => void | Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      process.stderr.write(`alertbus rules: ${err.message}\n`);
      process.exitCode = err.exitCode;
    }
  };
}

export function registerRules(program: Command): void {
  const rules = program
    .command('rules')
    .description('check routing rules, see what a sample would do, and backtest candidate rules against recorded history');

  rules
    .command('check')
    .description('validate a rules file with the router\'s own messages (every problem, with its line); exit 1 when invalid')
    .argument('<file>', 'the YAML rules file')
    .option('--json', 'print the result as JSON')
    .action(run((file: string, opts: { json?: boolean }) => check(file, opts)));

  rules
    .command('test')
    .description('show which rules a sample matches (and which matcher failed), what the router would send, and why')
    .argument('<file>', 'the YAML rules file')
    .option('--alert <file>', 'an Alertmanager, Grafana or generic webhook payload, or an AlertReceived event (JSON)')
    .option('--slack <file>', 'a Slack Events API body (event_callback) or a SlackMessageReceived event (JSON)')
    .option('--text <text>', 'a message to the app, as typed after the mention: which command it is (commands:), and what it does')
    .option('--user <id>', 'with --text: who writes it (a Slack user id; default U0TEST), for permissions:')
    .option('--groups <handles>', 'with --text or --slack: the user groups of the writer, comma-separated, for permissions:')
    .option('--channel <id>', 'with --text: the channel (default C0TEST)')
    .option('--source <kind>', 'what --alert is: alertmanager, grafana, generic or event (default: guessed from its shape)')
    .option('--at <time>', 'when the sample is recorded (ISO 8601; default now)')
    .option('--json', 'print the explanation as JSON')
    .action(run((file: string, opts: TestOptions) => test(file, opts)));

  rules
    .command('backtest')
    .description(
      'replay the alerts received in [--from, --to), with what people did in Slack and the pager (acks, resolves), through ' +
        'candidate rules, with no side effects (Kafka is only read), and print per incident and in total what would change ' +
        'against what happened: channel, pager priority, paged or suppressed, messages per channel; then the acks and ' +
        'resolves that would have done something else',
    )
    .argument('<file>', 'the candidate YAML rules file')
    .requiredOption('--from <time>', 'window start: ISO 8601, now, or now-<duration> (e.g. now-7d)')
    .option('--to <time>', 'window end, exclusive (default now)')
    .option('--brokers <list>', 'Kafka brokers (default KAFKA_BROKERS); KAFKA_TOPIC_PREFIX is honoured')
    .option('--json', 'print the report as JSON')
    .option('--progress', 'show progress on stderr even when it is not a terminal')
    .action(run((file: string, opts: BacktestOptions) => backtest(file, opts)));

  rules
    .command('schema')
    .description('print the JSON Schema of the rules file (for editors, e.g. yaml-language-server)')
    .action(() => void out(JSON.stringify(RulesFile, null, 2)));
}
