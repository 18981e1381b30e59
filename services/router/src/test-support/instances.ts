/** Router instances side by side in one group, for the tests of router.shared.v1. */
import { createLogger } from '@alertbus/common';
import { partitionOfKey } from '@alertbus/kafka';
import { TOPICS } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { testBrokers } from '../../../../test/support/kafka';
import { waitFor } from '../../../../test/support/wait';
import { startRouter, type Router, type RouterConfig } from '../index';

/** A router instance (its own ROUTER_INSTANCE_ID, so its own transactional ids) on the test broker. */
export const startInstance = (rulesPath: string, instanceId: string, more: Partial<RouterConfig> = {}): Promise<Router> =>
  startRouter({
    brokers: testBrokers(),
    port: 0,
    instanceId,
    rulesPath,
    watchRules: false,
    sessionTimeoutMs: 6_000,
    // These tests record alerts at T0 (2025) under silences that ended then. A silence-end tick, stamped with the wall
    // clock, would find such a kept firing past ROUTER_STATE_RETENTION and forget it mid-test (a firing kept as an
    // inhibitor included). The tickers have their own tests (router.silence-end.int.test.ts, router.inhibition-end.int.test.ts);
    // here they do not look.
    silenceEndTickIntervalMs: 3_600_000,
    inhibitionEndTickIntervalMs: 3_600_000,
    log: createLogger(`router-${instanceId}`, process.env.ROUTER_TEST_LOG ?? 'silent'),
    ...more,
  });

/** An alias (from a numbered family; the `skip`-th found) whose records land on one of `partitions`. */
export async function aliasOn(kafka: Kafka, partitions: number[], family: string, skip = 0): Promise<string> {
  for (let i = 0, found = 0; i < 500; i++) {
    const alias = `alertmanager:${family}-${i}`;
    if (partitions.includes(await partitionOfKey(kafka, TOPICS.alertsReceived, alias)) && found++ === skip) return alias;
  }
  throw new Error(`no alias of ${family} on partitions ${partitions.join(',')}`);
}

/** Waits until both instances hold partitions, none twice, all six held (the group settled after the second join). */
export function bothHolding(a: Router, b: Router): Promise<true> {
  return waitFor(
    () => (a.partitions.length > 0 && b.partitions.length > 0 && [...a.partitions, ...b.partitions].sort().join() === '0,1,2,3,4,5' ? true : null),
    { timeoutMs: 90_000, what: 'both routers holding partitions' },
  );
}
