/** Pager commands as the router writes them, and the sink's configuration, for the sink's tests. */
import { deriveId, makeEnvelope, newId, type AnyEnvelope, type EventType } from '@alertbus/schemas';
import { testBrokers } from '../../../../test/support/kafka';
import type { OpsgenieSinkConfig } from '../config';

const RULE = { path: 'rules[0]', name: 'db pages', rulesVersion: 'test-rules' };

export function pagerCommand(type: EventType, alias: string, data: Record<string, unknown> = {}): AnyEnvelope {
  const id = newId();
  const at = new Date().toISOString();
  return makeEnvelope({
    id,
    type,
    alias,
    occurredAt: at,
    recordedAt: at,
    source: 'router',
    causationId: null,
    correlationId: id,
    data: { incidentId: deriveId('incident', alias, 1), rule: RULE, ...data },
  } as never) as AnyEnvelope;
}

export const createCommand = (alias: string, extra: Record<string, unknown> = {}) =>
  pagerCommand('CreatePagerAlert', alias, {
    message: `Disk almost full on ${alias}`,
    priority: 'P2',
    tags: ['db', 'disk'],
    responders: [{ type: 'team', name: 'sre' }],
    details: { host: 'db-1' },
    source: 'alertmanager',
    ...extra,
  });

/** The sink against a stand-in, the test run's broker and database, retrying fast (the budget never runs out). */
export function testSinkConfig(og: { apiKey: string; url: string }, overrides: Partial<OpsgenieSinkConfig> = {}): OpsgenieSinkConfig {
  return {
    apiKey: og.apiKey,
    apiUrl: og.url,
    provider: 'opsgenie',
    port: 0,
    kafkaBrokers: testBrokers(),
    databaseUrl: process.env.DATABASE_URL!,
    retryPolicy: { budgetMs: 10 * 60_000, minBackoffMs: 20, maxBackoffMs: 100 },
    statusPollDelayMs: 20,
    ...overrides,
  };
}
