/**
 * Slack answers 503 for 45 s (FAULT_OUTAGE_MS) in the middle of a stream while the pager stays healthy: pages go on during the
 * outage, and once Slack is back every incident has exactly one root message (replies in its thread, after it),
 * nothing is dead-lettered and history has every incident.
 */
import { dropTestDatabase } from '../support/db';
import { FAULT_TEST_TIMEOUT_MS, startFaultRun, type FaultRun } from '../support/fault-run';
import { apiOutage, OUTAGE_MS } from './api-outage';

let run: FaultRun | undefined;

beforeAll(async () => {
  run = await startFaultRun({ stream: { prefix: 'slk', ratePerSec: 1, resolveEvery: 4, resolveLag: 6 } });
}, 180_000);

afterAll(async () => {
  await run?.stop();
  await dropTestDatabase();
});

test(`Slack down for ${OUTAGE_MS / 1000} s, pager healthy: every alert paged during it, posted exactly once after`, () => apiOutage(run!, 'slack'), FAULT_TEST_TIMEOUT_MS);
