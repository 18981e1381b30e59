/**
 * docker-compose.yml gives every alertbus service the settings of .env (env_file) under its own, passes from the shell
 * every setting an operator of a service may need (or leaves it to .env on purpose, listed below), and runs the router
 * so that it cannot fence itself. No Docker engine needed: the file is read.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { envReadBy, serviceNames } from './service-env';

const root = resolve(__dirname, '../..');
const text = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
type ComposeService = { command?: string[]; env_file?: unknown; environment?: Record<string, unknown> };
const compose = parse(text, { merge: true }) as { services: Record<string, ComposeService> };

/** The variable names of the README's configuration table. */
function documentedVariables(): Set<string> {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1));
  return new Set([...table.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]));
}

/**
 * Settings compose does not pass from the shell (tuning, test-only, or set per instance by `npm start`): they reach the
 * services from .env (env_file), or an override file sets them. A setting a service reads is passed by compose or
 * listed here: a new one is placed on purpose, not forgotten.
 */
const LEFT_TO_DEFAULTS = new Set([
  // every service
  'KAFKA_TOPIC_PREFIX', 'KAFKA_IDLE_FETCH_WAIT_MS', 'ALERTBUS_INSTANCE_ID', 'PG_CONNECT_TIMEOUT_MS', 'PG_STATEMENT_TIMEOUT_MS',
  'INFRA_RETRY_MIN_BACKOFF_MS', 'INFRA_RETRY_MAX_BACKOFF_MS', 'DELIVERY_RETRY_BUDGET', 'DELIVERY_RETRY_MIN_BACKOFF_MS',
  'DELIVERY_RETRY_MAX_BACKOFF_MS', 'ALERTBUS_TOKEN',
  // ingest
  'INGEST_SLACK_TIMEOUT_MS', 'INGEST_KAFKA_TIMEOUT_MS', 'INGEST_PRODUCE_QUEUE_MAX', 'SLACK_API_URL', 'SLACK_USERGROUPS_TTL',
  'INGEST_ALLOW_OPEN', 'NOTIFY_SYNC_TIMEOUT',
  // router
  'ROUTING_RULES_WATCH', 'ROUTER_SESSION_TIMEOUT_MS', 'ROUTER_SILENCES_WAIT_MS', 'ROUTER_SHARED_WAIT_MS', 'ROUTER_PIPELINE_DEPTH',
  'ROUTER_FETCH_BATCH_BYTES', 'ROUTER_STATE_RETENTION',
  // slack-sink
  'SLACK_TIMEOUT_MS', 'SLACK_POST_SETTLE_MS', 'ONCALL_CACHE_TTL_SECONDS', 'SLACK_UPDATE_HOLD_MS', 'ONCALL_USERGROUP_INTERVAL_MINUTES',
  // opsgenie-sink
  'OPSGENIE_TIMEOUT_MS', 'OPSGENIE_CREATE_SETTLE_MS', 'OPSGENIE_CLOSE_WAIT_MAX_MS',
  // history
  'HISTORY_KAFKA_TIMEOUT_MS', 'HISTORY_FETCH_LINGER_MS',
  // the local broker's (npm start and tests start it; compose runs its own Kafka)
  'ALERTBUS_KAFKA_HOME', 'ALERTBUS_KAFKA_DEBUG',
]);

/** The documented settings a service reads that its compose service neither passes nor leaves to defaults on purpose. */
function notPassed(env: Record<string, unknown> | undefined, reads: Set<string>, documented: Set<string>): string[] {
  const passed = new Set(Object.keys(env ?? {}));
  return [...reads].filter((n) => documented.has(n) && !passed.has(n) && !LEFT_TO_DEFAULTS.has(n)).sort();
}

/**
 * The alertbus services (each runs `serve <service>`) whose settings do not come from .env: every one must read it
 * (env_file `.env`, not required), so that every setting of the README's table set there has its effect.
 */
function withoutDotEnv(services: Record<string, ComposeService>): string[] {
  const readsDotEnv = (s: ComposeService) =>
    Array.isArray(s.env_file) &&
    s.env_file.some((f) => typeof f === 'object' && f !== null && (f as { path?: unknown }).path === '.env' && (f as { required?: unknown }).required === false);
  return Object.entries(services)
    .filter(([, s]) => s.command?.[0] === 'serve' && !readsDotEnv(s))
    .map(([name]) => name)
    .sort();
}

describe('docker-compose.yml', () => {
  const documented = documentedVariables();

  test('every alertbus service reads .env whole, and compose\'s own addresses win over it', () => {
    const alertbus = Object.entries(compose.services).filter(([, s]) => s.command?.[0] === 'serve').map(([n]) => n);
    expect(alertbus.sort()).toEqual(serviceNames().sort());
    expect(withoutDotEnv(compose.services)).toEqual([]);
    // `environment:` wins over env_file: the broker and database inside the network, whatever .env says.
    for (const name of alertbus) {
      expect(compose.services[name]!.environment).toMatchObject({ KAFKA_BROKERS: 'kafka:9092', DATABASE_URL: expect.stringContaining('@postgres:5432/') });
    }
    // Kafka's image reads KAFKA_* variables as broker settings (KAFKA_TOPIC_PREFIX would be one): .env is not its.
    expect(compose.services.kafka!.env_file).toBeUndefined();
  });

  test('the check names a service that does not read .env', () => {
    const { env_file: _dropped, ...router } = compose.services.router!;
    expect(withoutDotEnv({ ...compose.services, router })).toEqual(['router']);
  });

  test('ingest starts with INGEST_TOKEN or INGEST_TOKENS alone (ingest itself refuses neither)', () => {
    const ingest = compose.services.ingest!.environment!;
    expect(ingest.INGEST_TOKEN).toBe('${INGEST_TOKEN:-}');
    expect(ingest.INGEST_TOKENS).toBe('${INGEST_TOKENS:-}');
    expect(text).not.toMatch(/\$\{INGEST_TOKENS?:\?/);
  });

  test('OPSGENIE_API_URL is passed empty when unset, so the sinks default it by PAGER_PROVIDER', () => {
    // A default of Opsgenie's host here stopped the opsgenie-sink with PAGER_PROVIDER=jsm.
    for (const service of ['opsgenie-sink', 'slack-sink']) {
      expect(compose.services[service]!.environment!.OPSGENIE_API_URL).toBe('${OPSGENIE_API_URL:-}');
    }
  });

  test.each(serviceNames())('%s gets every setting it reads that an operator may set', (service) => {
    expect(notPassed(compose.services[service]?.environment, envReadBy(service), documented)).toEqual([]);
  });

  test('the check names a setting compose forgot', () => {
    const { INGEST_MAX_ALERTS: _dropped, ...env } = compose.services.ingest!.environment!;
    expect(notPassed(env, envReadBy('ingest'), documented)).toEqual(['INGEST_MAX_ALERTS']);
  });

  test('ingest passes the large-group limits and SLACK_ALLOWED_TEAMS; history takes its tokens from a file too', () => {
    const ingest = Object.keys(compose.services.ingest!.environment!);
    for (const name of ['INGEST_MAX_ALERTS', 'INGEST_BODY_LIMIT', 'INGEST_MAX_NORMALISED_BYTES', 'SLACK_ALLOWED_TEAMS']) expect(ingest).toContain(name);
    expect(Object.keys(compose.services.history!.environment!)).toEqual(expect.arrayContaining(['HISTORY_API_TOKENS', 'HISTORY_API_TOKENS_FILE']));
  });

  test('the router names its instance id, and the file and README say not to --scale it', () => {
    // Part of the router's transactionalId: replicas of one compose service would share it and fence each other.
    expect(compose.services.router!.environment!.ROUTER_INSTANCE_ID).toBe('0');
    expect(text).toMatch(/do not `docker compose up --scale router=2`/);
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const scaling = readme.slice(readme.indexOf('## Scaling out'), readme.indexOf('\n## ', readme.indexOf('## Scaling out') + 1));
    expect(scaling).toMatch(/Under compose, do not\s+`docker compose up --scale router=2`/);
  });
});
