/**
 * One external API down (every call answers 503) in the middle of a stream, the other healthy. Shared by the
 * Slack-outage and pager-outage tests, which differ only in which API is down.
 */
import { countPaged, countPosted, delayedCommands } from '../support/exactly-once';
import { pollUntil, report, sleep, type FaultRun } from '../support/fault-run';

/**
 * 45 s: fifteen times the longest wait between delivery retries in the run (FAULT_ENV: 3 s), so every command waiting
 * goes through many failed tries. FAULT_OUTAGE_MS=120000 gives the two minutes of the outage first reported.
 */
export const OUTAGE_MS = Number(process.env.FAULT_OUTAGE_MS ?? 45_000);
const BEFORE_MS = 10_000;
const AFTER_MS = 10_000;

export async function apiOutage(run: FaultRun, down: 'slack' | 'pager'): Promise<void> {
  const { full, stream, kafka } = run;
  const stopFault = () => (down === 'slack' ? full.slack.state.clearFaults() : full.opsgenie.state.clearFaults());

  stream.start();
  await sleep(BEFORE_MS);
  const outageStart = Date.now();
  // Open-ended until the test ends it (the window only bounds a run that dies midway).
  if (down === 'slack') full.slack.state.failFor('*', { status: 503 }, 30 * 60_000);
  else full.opsgenie.state.failFor('*', { status: 503 }, 30 * 60_000);
  await sleep(OUTAGE_MS);

  // With the outage still on, the healthy side has delivered everything accepted during it.
  const during = stream.acceptedBetween(outageStart);
  const healthyDelivered = await pollUntil(
    () => (down === 'pager' ? countPosted(kafka, full.slack.state, during) : Promise.resolve(countPaged(full.opsgenie.state, during))),
    (n) => n === during.length,
    90_000,
  );
  stopFault();
  const outageSeconds = Math.round((Date.now() - outageStart) / 1000);

  await sleep(AFTER_MS);
  const result = await run.finish();
  const delayed = delayedCommands(result.observation);
  const healthy = down === 'pager' ? 'Slack' : 'pager';
  const actual = {
    ...result.summary,
    [`${healthy} delivered during the outage`]: healthyDelivered,
    [`${down} commands that emitted DeliveryDelayed`]: delayed[down] > 0,
  };
  const expected = {
    ...result.expected,
    [`${healthy} delivered during the outage`]: during.length,
    [`${down} commands that emitted DeliveryDelayed`]: true,
  };
  report(`${down} answering 503 for ${outageSeconds} s (${during.length} alerts accepted during it)`, actual, expected, result.details);
  expect(during.length).toBeGreaterThan(0);
  expect(actual).toEqual(expected);
}
