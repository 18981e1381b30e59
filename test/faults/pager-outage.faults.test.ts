/**
 * The pager API answers 503 for 45 s (FAULT_OUTAGE_MS) in the middle of a stream while Slack stays healthy: Slack posts go on
 * during the outage, and once the pager is back every alert is paged exactly once (resolved ones closed after
 * they were created), nothing is dead-lettered and history has every incident.
 */
import { dropTestDatabase } from '../support/db';
import { FAULT_TEST_TIMEOUT_MS, startFaultRun, type FaultRun } from '../support/fault-run';
import { apiOutage, OUTAGE_MS } from './api-outage';

let run: FaultRun | undefined;

beforeAll(async () => {
  run = await startFaultRun({ stream: { prefix: 'pgr', ratePerSec: 1, resolveEvery: 4, resolveLag: 6 } });
}, 180_000);

afterAll(async () => {
  await run?.stop();
  await dropTestDatabase();
});

test(`pager down for ${OUTAGE_MS / 1000} s, Slack healthy: every alert posted during it, paged exactly once after`, () => apiOutage(run!, 'pager'), FAULT_TEST_TIMEOUT_MS);
