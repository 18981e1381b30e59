/**
 * Optional prefix for every topic and consumer group (KAFKA_TOPIC_PREFIX), so several alertbus
 * installations, or several test files, can share one cluster without seeing each other's records.
 */
export const TOPIC_PREFIX = process.env.KAFKA_TOPIC_PREFIX ?? '';

/** Every Kafka topic alertbus uses, with how it is created. The one place topic names live. */
export const TOPICS = {
  alertsReceived: `${TOPIC_PREFIX}alerts.received.v1`,
  slackReceived: `${TOPIC_PREFIX}slack.received.v1`,
  incidents: `${TOPIC_PREFIX}incidents.v1`,
  slackCommands: `${TOPIC_PREFIX}commands.slack.v1`,
  pagerCommands: `${TOPIC_PREFIX}commands.pager.v1`,
  deliveries: `${TOPIC_PREFIX}deliveries.v1`,
  routerState: `${TOPIC_PREFIX}router.state.v1`,
  routerShared: `${TOPIC_PREFIX}router.shared.v1`,
  /** Time as an input of the router's: StormSummaryTick (a quiet storm's summary shows its last changes), SilenceEndedTick (a firing kept under a silence that ended pages), InhibitionEndedTick (a firing kept while inhibited, whose inhibitor is gone, pages). */
  routerTicks: `${TOPIC_PREFIX}router.ticks.v1`,
  /**
   * The text of every routing rules version a router applied, keyed by its version (sha256), and the latest applied
   * under ROUTER_RULES_LATEST_KEY: what a router starts with when its rules file is refused, and what an audit reads
   * to see the rules a decision's rulesVersion names.
   */
  routerRules: `${TOPIC_PREFIX}router.rules.v1`,
  deadLetter: `${TOPIC_PREFIX}deadletter.v1`,
  silences: `${TOPIC_PREFIX}silences.v1`,
  notifications: `${TOPIC_PREFIX}notifications.v1`,
  /** The rules file's `commands:` entries with `command:`: requests for other systems to act on. */
  customCommands: `${TOPIC_PREFIX}commands.custom.v1`,
} as const;

export type TopicName = string;

/** Consumer group ids, one per service role (prefixed like the topics). */
export const GROUPS = {
  router: `${TOPIC_PREFIX}alertbus-router`,
  slackSink: `${TOPIC_PREFIX}alertbus-slack-sink`,
  opsgenieSink: `${TOPIC_PREFIX}alertbus-opsgenie-sink`,
  history: `${TOPIC_PREFIX}alertbus-history`,
} as const;

export interface TopicSpec {
  name: TopicName;
  partitions: number;
  cleanupPolicy: 'delete' | 'compact';
  /** Retention in ms; -1 keeps forever (the facts are the audit trail). */
  retentionMs: number;
}

/** Keyed topics all share one partition count so a key lands on the same partition number everywhere. */
export const KEYED_PARTITIONS = 6;

export const TOPIC_SPECS: readonly TopicSpec[] = [
  { name: TOPICS.alertsReceived, partitions: KEYED_PARTITIONS, cleanupPolicy: 'delete', retentionMs: -1 },
  { name: TOPICS.slackReceived, partitions: KEYED_PARTITIONS, cleanupPolicy: 'delete', retentionMs: -1 },
  { name: TOPICS.incidents, partitions: KEYED_PARTITIONS, cleanupPolicy: 'delete', retentionMs: -1 },
  { name: TOPICS.slackCommands, partitions: KEYED_PARTITIONS, cleanupPolicy: 'delete', retentionMs: -1 },
  { name: TOPICS.pagerCommands, partitions: KEYED_PARTITIONS, cleanupPolicy: 'delete', retentionMs: -1 },
  { name: TOPICS.deliveries, partitions: KEYED_PARTITIONS, cleanupPolicy: 'delete', retentionMs: -1 },
  { name: TOPICS.routerState, partitions: KEYED_PARTITIONS, cleanupPolicy: 'compact', retentionMs: -1 },
  // Every router instance's incident states, read entirely by every instance (inhibition and storm control across instances).
  { name: TOPICS.routerShared, partitions: 1, cleanupPolicy: 'compact', retentionMs: -1 },
  // Read by the router co-partitioned with its other inputs: a tick's key decides which instance takes it.
  { name: TOPICS.routerTicks, partitions: KEYED_PARTITIONS, cleanupPolicy: 'delete', retentionMs: -1 },
  // Small and kept whole (compacted): one record per rules version ever applied, plus the latest under a fixed key.
  { name: TOPICS.routerRules, partitions: 1, cleanupPolicy: 'compact', retentionMs: -1 },
  { name: TOPICS.deadLetter, partitions: 3, cleanupPolicy: 'delete', retentionMs: -1 },
  { name: TOPICS.silences, partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 },
  { name: TOPICS.notifications, partitions: KEYED_PARTITIONS, cleanupPolicy: 'delete', retentionMs: -1 },
  { name: TOPICS.customCommands, partitions: KEYED_PARTITIONS, cleanupPolicy: 'delete', retentionMs: -1 },
];

/** router.rules.v1: the key of the rules version applied last (by any router instance); the others are keyed by version. */
export const ROUTER_RULES_LATEST_KEY = 'latest';

/** Record header names. */
export const HEADERS = {
  eventType: 'alertbus-type',
  eventId: 'alertbus-id',
  schemaVersion: 'alertbus-version',
  /** Set by `alertbus deadletter redrive` on a record put back: the id of the dead letter it came from. */
  redrive: 'alertbus-redrive',
  /** Set by `alertbus deadletter redrive` beside `redrive`: who put the record back (--by, ALERTBUS_USER or the login). */
  redrivenBy: 'alertbus-redriven-by',
  /** On router.shared.v1: the input partition the incident's alias belongs to. */
  partition: 'alertbus-partition',
  /** On router.rules.v1: the rules version (sha256 of the text) the record holds. */
  rulesVersion: 'alertbus-rules-version',
  /** On router.rules.v1: where the text was read (the rules file's path) when it was applied. */
  rulesOrigin: 'alertbus-rules-origin',
} as const;
