/**
 * Reconciling a pager command whose earlier attempt may have taken effect (a crash, or a call that got no answer):
 * a look-up the pager does not answer leaves it unknown, so it throws (the runner looks again later) instead of
 * saying "not there", which would send a create that may be the second.
 */
import { DeliveryError } from '@alertbus/common';
import { deriveId, makeEnvelope, newId, type AnyEnvelope } from '@alertbus/schemas';
import { startOpsgenieStandIn, type OpsgenieStandIn } from '@alertbus/stand-ins';
import { createPagerClient } from './create-pager-client';
import { PagerNotifier } from './notifier';

function create(alias: string): AnyEnvelope {
  const id = newId();
  const at = '2026-01-01T00:00:00.000Z';
  return makeEnvelope({
    id,
    type: 'CreatePagerAlert',
    alias,
    occurredAt: at,
    recordedAt: at,
    source: 'router',
    data: { incidentId: deriveId('incident', alias, 1), rule: { path: 'default', rulesVersion: 'v' }, message: 'm', priority: 'P3', tags: [], responders: [], details: {}, source: 'test' },
  } as never) as AnyEnvelope;
}

let og: OpsgenieStandIn;
let notifier: PagerNotifier;

beforeEach(async () => {
  og = await startOpsgenieStandIn();
  notifier = new PagerNotifier({ provider: 'opsgenie', client: createPagerClient('opsgenie', { apiKey: og.apiKey, apiUrl: og.url }), statusPolls: 2, statusPollDelayMs: 10 });
});
afterEach(async () => {
  await og.close();
});

test('a create that took effect is found: no second create', async () => {
  const cmd = create('reconcile-found');
  await notifier.execute(cmd);
  const found = await notifier.reconcile(cmd);
  expect(found?.type).toBe('PagerAlertCreated');
});

test('a look-up the pager answers 503 throws a retryable error instead of answering "not there"', async () => {
  const cmd = create('reconcile-unanswered');
  await notifier.execute(cmd);
  og.state.failFor('getAlert', { status: 503 }, 60_000);
  const err = await notifier.reconcile(cmd).then(
    (v) => v,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DeliveryError);
  expect((err as DeliveryError).permanent).toBe(false);
  og.state.clearFaults();
  expect((await notifier.reconcile(cmd))?.type).toBe('PagerAlertCreated');
});
