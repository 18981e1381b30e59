import { DeliveryError } from '@alertbus/common';
import { deriveId, makeEnvelope, newId, type AnyEnvelope } from '@alertbus/schemas';
import { mayHaveTakenEffect } from '@alertbus/sink-runtime';
import { startOpsgenieStandIn, type OpsgenieStandIn } from '@alertbus/stand-ins';
import { createPagerClient } from './create-pager-client';
import { COMPLETION_IN_FLIGHT_MS, CreateUnconfirmed, PagerNotifier } from './notifier';
import type { UnconfirmedClose, UnconfirmedCloseStore } from './unconfirmed-closes';

const RULE = { path: 'default', rulesVersion: 'v' };

function command(type: string, alias: string, data: Record<string, unknown> = {}): AnyEnvelope {
  const id = newId();
  const at = '2026-01-01T00:00:00.000Z';
  return makeEnvelope({
    id,
    type,
    alias,
    occurredAt: at,
    recordedAt: at,
    source: 'router',
    data: { incidentId: deriveId('incident', alias, 1), rule: RULE, ...data },
  } as never) as AnyEnvelope;
}

const noteOf = (cmd: AnyEnvelope) => (cmd.data as { note: string }).note;
const create = (alias: string) =>
  command('CreatePagerAlert', alias, { message: 'm', priority: 'P3', tags: [], responders: [], details: {}, source: 'test' });

let og: OpsgenieStandIn;
let notifier: PagerNotifier;

beforeEach(async () => {
  og = await startOpsgenieStandIn();
  notifier = new PagerNotifier({
    provider: 'opsgenie',
    client: createPagerClient('opsgenie', { apiKey: og.apiKey, apiUrl: og.url }),
    statusPolls: 2,
    statusPollDelayMs: 10,
  });
});
afterEach(async () => {
  await og.close();
});

describe('PagerNotifier', () => {
  it('treats closing an alias with no open alert as done (the state asked for holds), without an alert id', async () => {
    const outcome = await notifier.execute(command('ClosePagerAlert', 'never-opened'));
    expect(outcome.type).toBe('PagerAlertClosed');
    expect(outcome.data).toEqual({ provider: 'opsgenie', requestId: expect.any(String) });
  });

  it('treats a close answered 404 "Alert does not exist" at once as done too; another 404 (a wrong URL) waits, retried', async () => {
    og.state.failNext('close', { status: 404, body: { message: 'Alert does not exist', took: 0.002, requestId: 'r-404' } });
    const outcome = await notifier.execute(command('ClosePagerAlert', 'never-opened'));
    expect(outcome).toEqual({ type: 'PagerAlertClosed', data: { provider: 'opsgenie' } });

    og.state.failNext('close', { status: 404, body: { message: 'Could not find the requested resource', took: 0.001, requestId: 'r-405' } });
    const err = await notifier.execute(command('ClosePagerAlert', 'never-opened')).catch((e: unknown) => e);
    expect(err).toMatchObject({ permanent: false, httpStatus: 404, message: expect.stringContaining('check OPSGENIE_API_URL') });
  });

  it.each([
    [401, { message: 'Could not authenticate', took: 0.0, requestId: 'r' }],
    [403, { message: 'You do not have the right to perform this action', took: 0.0, requestId: 'r' }],
    [422, { message: 'Key format is not valid!', took: 0.0, requestId: 'r' }],
  ])('a key refused with %i (rotated, or of the other region) is retried, not dead-lettered: every page would be', async (status, body) => {
    og.state.failNext('create', { status, body });
    const err = await notifier.execute(create('key-refused')).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'DeliveryError', permanent: false, httpStatus: status, message: expect.stringContaining('check OPSGENIE_API_KEY') });
    expect(notifier.keyProblem()).toMatch(/refused the key .*pages wait until OPSGENIE_API_KEY or OPSGENIE_API_URL is fixed/);
    // Once the key is right, the same command goes out, and readiness is back.
    expect((await notifier.execute(create('key-refused'))).type).toBe('PagerAlertCreated');
    expect(notifier.keyProblem()).toBeUndefined();
  });

  it('a create refused for a field (422) stays permanent: retrying cannot change it', async () => {
    og.state.failNext('create', { status: 422, body: { message: 'Request body is not processable. Please check the errors.', errors: { responders: 'Team not found' }, took: 0.0, requestId: 'r' } });
    const err = await notifier.execute(create('bad')).catch((e: unknown) => e);
    expect(err).toMatchObject({ permanent: true, httpStatus: 422 });
  });

  it('fails a note on an alias with no open alert permanently, named alert-not-open', async () => {
    const err = await notifier.execute(command('AddPagerNote', 'never-opened', { note: 'n' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err).toMatchObject({ permanent: true, message: expect.stringMatching(/^alert-not-open: opsgenie add note/) });
  });

  it('never records a create whose status stays unknown as created: a retryable error that sends it to the alias look-up', async () => {
    og.state.processingDelayMs = 60_000;
    const pending = await notifier.execute(create('slow')).catch((e: unknown) => e);
    expect(pending).toBeInstanceOf(CreateUnconfirmed);
    expect(pending).toMatchObject({ permanent: false, httpStatus: undefined, message: expect.stringMatching(/^opsgenie create alert accepted \(request [0-9a-f-]+\) but its status is still unknown/) });
    expect((pending as Error).message).not.toContain(og.apiKey);
    // No answer from the status call: the same.
    og.state.processingDelayMs = 0;
    og.state.failNext('requestStatus', { status: 503 }, 2);
    expect(await notifier.execute(create('status-down')).catch((e: unknown) => e)).toBeInstanceOf(CreateUnconfirmed);
  });

  it('counts a close, an acknowledge or a note whose status stays unknown as delivered, with the requestId only (a note sent again shows twice)', async () => {
    await notifier.execute(create('open-one'));
    og.state.processingDelayMs = 60_000;
    for (const type of ['AcknowledgePagerAlert', 'AddPagerNote', 'ClosePagerAlert']) {
      const outcome = await notifier.execute(command(type, 'open-one', { note: 'n' }));
      expect(outcome.data).toEqual({ provider: 'opsgenie', requestId: expect.any(String) });
    }
  });

  it('records a create as accepted, unverified, when the status call is refused for good (looking again could never tell)', async () => {
    og.state.failNext('requestStatus', { status: 403, body: { message: 'Forbidden', took: 0, requestId: 'r' } });
    const outcome = await notifier.execute(create('status-forbidden'));
    expect(outcome).toEqual({ type: 'PagerAlertCreated', data: { provider: 'opsgenie', requestId: expect.any(String) } });
  });

  it('reconciles from what the pager shows for the alias', async () => {
    expect(await notifier.reconcile(create('a1'))).toBeUndefined();
    expect(await notifier.reconcile(command('ClosePagerAlert', 'a1'))).toMatchObject({ type: 'PagerAlertClosed' });
    await notifier.execute(create('a1'));
    const alert = og.state.alerts[0]!;
    expect(await notifier.reconcile(create('a1'))).toEqual({ type: 'PagerAlertCreated', data: { provider: 'opsgenie', alertId: alert.id } });
    expect(await notifier.reconcile(command('ClosePagerAlert', 'a1'))).toBeUndefined();
    expect(await notifier.reconcile(command('AcknowledgePagerAlert', 'a1'))).toBeUndefined();
    expect(await notifier.reconcile(command('AddPagerNote', 'a1', { note: 'n' }))).toBeUndefined();
    og.state.failNext('getAlert', { status: 503 });
    // No answer: still unknown, and a create now could be the second; the runner looks again after a back-off.
    await expect(notifier.reconcile(create('a1'))).rejects.toMatchObject({ name: 'DeliveryError', permanent: false });
    og.state.failNext('getAlert', { status: 403 });
    expect(await notifier.reconcile(create('a1'))).toBeUndefined(); // refused for good → execute (deduplicated by alias)
  });

  it('raises an open alert\'s priority (PUT, then the request status); with no open alert there is nothing to raise, and that is done', async () => {
    await notifier.execute(create('raise-me'));
    const raise = command('UpdatePagerPriority', 'raise-me', { priority: 'P1', from: 'P3' });
    const outcome = await notifier.execute(raise);
    expect(outcome).toEqual({ type: 'PagerPriorityUpdated', data: { provider: 'opsgenie', requestId: expect.any(String), alertId: og.state.alerts[0]!.id, priority: 'P1', changed: true } });
    expect(og.state.alerts[0]).toMatchObject({ priority: 'P1' });
    expect(og.state.calls.find((c) => c.route === 'priority')).toMatchObject({ method: 'PUT', identifier: 'raise-me', identifierType: 'alias', body: { priority: 'P1' } });
    // After a crash: already at that priority → done without a call; not open → nothing to raise.
    expect(await notifier.reconcile(raise)).toEqual({ type: 'PagerPriorityUpdated', data: { provider: 'opsgenie', alertId: og.state.alerts[0]!.id, priority: 'P1', changed: true } });
    expect(await notifier.reconcile(command('UpdatePagerPriority', 'raise-me', { priority: 'P2' }))).toBeUndefined();
    const gone = await notifier.execute(command('UpdatePagerPriority', 'closed-meanwhile', { priority: 'P1' }));
    expect(gone.data).toMatchObject({ priority: 'P1', changed: false });
    // Refused for the request itself (a bad priority would be a 422): permanent, as for any command.
    og.state.failNext('priority', { status: 422, body: { message: 'Request body is not processable. Please check the errors.', errors: { priority: 'Invalid priority' } } });
    const refused = await notifier.execute(raise).catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: 'DeliveryError', permanent: true, httpStatus: 422 });
    // A 429 or 5xx waits and is retried, like every pager call.
    og.state.failNext('priority', { status: 503 });
    expect(await notifier.execute(raise).catch((e: unknown) => e)).toMatchObject({ name: 'DeliveryError', permanent: false });
  });

  it('with JSM, whose integration API cannot change a priority, an update sends nothing and is recorded as not changed', async () => {
    const jsm = new PagerNotifier({ provider: 'jsm', client: createPagerClient('jsm', { apiKey: og.apiKey, apiUrl: og.url }), statusPolls: 2, statusPollDelayMs: 10 });
    await jsm.execute(create('jsm-raise'));
    const before = og.state.calls.length;
    expect(await jsm.execute(command('UpdatePagerPriority', 'jsm-raise', { priority: 'P1' }))).toEqual({ type: 'PagerPriorityUpdated', data: { provider: 'jsm', priority: 'P1', changed: false } });
    expect(og.state.calls.length).toBe(before);
    expect(og.state.alerts[0]).toMatchObject({ priority: 'P3' });
    expect(jsm.dryRun(command('UpdatePagerPriority', 'jsm-raise', { priority: 'P1' })).data).toMatchObject({ changed: false, request: { method: expect.stringMatching(/^NONE/) } });
  });

  it('with JSM, sends a close again after a crash: "no open alert" is all its integration API can say', async () => {
    const jsm = new PagerNotifier({ provider: 'jsm', client: createPagerClient('jsm', { apiKey: og.apiKey, apiUrl: og.url }), statusPolls: 2, statusPollDelayMs: 10 });
    // Taken as "already closed", a close whose answer was lost would never be sent, and the alert would stay open.
    expect(await jsm.reconcile(command('ClosePagerAlert', 'jsm-never-looked-up'))).toBeUndefined();
    expect((await jsm.execute(command('ClosePagerAlert', 'jsm-never-looked-up'))).type).toBe('PagerAlertClosed');
  });

  it('does not take "no open alert" as "never created" while the earlier attempt\'s create may still be pending', async () => {
    let now = Date.parse('2026-01-01T00:00:00.000Z');
    const settling = new PagerNotifier({
      provider: 'opsgenie',
      client: createPagerClient('opsgenie', { apiKey: og.apiKey, apiUrl: og.url }),
      createSettleMs: 30_000,
      settleLookupIntervalMs: 1_000,
      now: () => now,
    });
    const startedAt = new Date(now - 10_000);
    await expect(settling.reconcile(create('pending'), startedAt)).rejects.toMatchObject({ name: 'DeliveryError', permanent: false, retryAfterMs: 1_000 });
    now += 19_500; // 29.5 s after the attempt started: look again in the half second left
    await expect(settling.reconcile(create('pending'), startedAt)).rejects.toMatchObject({ retryAfterMs: 500 });
    now += 500;
    expect(await settling.reconcile(create('pending'), startedAt)).toBeUndefined(); // it cannot be pending any more
    // Found meanwhile: reported as created, whenever it is looked up.
    og.state.create({ message: 'm', alias: 'pending' }, 'opsgenie', '127.0.0.1');
    expect(await settling.reconcile(create('pending'), new Date(now))).toMatchObject({ type: 'PagerAlertCreated', data: { alertId: og.state.alerts[0]!.id } });
  });

  describe('a note whose add may have taken effect is looked for before it is added again', () => {
    const note = (alias: string, text = 'Still firing (received 3 times).') => command('AddPagerNote', alias, { note: text });
    const notesOn = (alias: string) => og.state.alerts.find((a) => a.alias === alias && a.status === 'open')?.notes.map((n) => n.note) ?? [];
    const adds = (alias: string) => og.state.calls.filter((c) => c.route === 'notes' && c.identifier === alias);

    // Opsgenie added the note, then its 500 (or a gateway's 502/504) said nothing of it: sent again at once, it showed twice.
    it.each([500, 502, 504])('after a %i that came once the note was added: found, recorded as added, not added twice', async (status) => {
      const alias = `noted-${status}`;
      await notifier.execute(create(alias));
      const cmd = note(alias);
      const startedAt = new Date();
      og.state.failNext('notes', { status, afterWork: true });
      const err = (await notifier.execute(cmd).catch((e: unknown) => e)) as DeliveryError;
      expect(err).toMatchObject({ name: 'DeliveryError', permanent: false, httpStatus: status });
      // The runner must look before it tries again...
      expect(mayHaveTakenEffect(err, notifier, cmd)).toBe(true);
      // ...and the look finds it.
      expect(await notifier.reconcile(cmd, startedAt, startedAt)).toEqual({ type: 'PagerNoteAdded', data: { provider: 'opsgenie' } });
      expect(notesOn(alias)).toEqual([noteOf(cmd)]);
      expect(adds(alias)).toHaveLength(1);
      expect(og.state.calls.filter((c) => c.route === 'listNotes').at(-1)).toMatchObject({ status: 200, identifier: alias, identifierType: 'alias' });
      // A create, a close, an acknowledge or a priority is still sent again at once after a 5xx: the pager deduplicates those.
      for (const type of ['CreatePagerAlert', 'ClosePagerAlert', 'AcknowledgePagerAlert', 'UpdatePagerPriority']) {
        expect(mayHaveTakenEffect(new DeliveryError('x', false, status), notifier, command(type, alias))).toBe(false);
      }
    });

    it('after an answer lost on the way back (a timeout): found the same way', async () => {
      await notifier.execute(create('noted-lost'));
      const cmd = note('noted-lost');
      const startedAt = new Date();
      og.state.loseAnswerNext('notes');
      const err = (await notifier.execute(cmd).catch((e: unknown) => e)) as DeliveryError;
      expect(err).toMatchObject({ permanent: false, httpStatus: undefined });
      expect(mayHaveTakenEffect(err, notifier, cmd)).toBe(true);
      expect(await notifier.reconcile(cmd, startedAt, startedAt)).toMatchObject({ type: 'PagerNoteAdded' });
      expect(notesOn('noted-lost')).toEqual([noteOf(cmd)]);
    });

    it('not there yet is not "never added" while the add may be pending; after that it is added, and the same text from before the first attempt is another note', async () => {
      await og.close();
      let clock = Date.parse('2026-06-01T12:00:00.000Z');
      og = await startOpsgenieStandIn({ now: () => new Date(clock) });
      const settling = new PagerNotifier({
        provider: 'opsgenie',
        client: createPagerClient('opsgenie', { apiKey: og.apiKey, apiUrl: og.url }),
        statusPolls: 2,
        statusPollDelayMs: 10,
        createSettleMs: 30_000,
        settleLookupIntervalMs: 1_000,
        now: () => clock,
      });
      await settling.execute(create('pending-note'));
      const cmd = note('pending-note', 'Priority raised from P3 to P1.');
      // The same words, added by an earlier command two minutes before this one's first attempt.
      await settling.execute(command('AddPagerNote', 'pending-note', { note: noteOf(cmd) }));
      clock += 120_000;
      const firstAttemptAt = new Date(clock);
      clock += 10_000;
      const startedAt = new Date(clock);
      await expect(settling.reconcile(cmd, startedAt, firstAttemptAt)).rejects.toMatchObject({ name: 'DeliveryError', permanent: false, retryAfterMs: 1_000 });
      clock += 30_000;
      expect(await settling.reconcile(cmd, startedAt, firstAttemptAt)).toBeUndefined(); // it cannot be pending any more: add it
      // Had it been added since the first attempt (by the first attempt, whose add was processed late), it would count.
      og.state.action('notes', 'pending-note', 'alias', { note: noteOf(cmd) });
      expect(await settling.reconcile(cmd, startedAt, firstAttemptAt)).toMatchObject({ type: 'PagerNoteAdded' });
    });

    it('reads page after page, newest first, until it finds the note or reaches the first attempt', async () => {
      await notifier.execute(create('busy-alert'));
      const cmd = note('busy-alert', 'the one');
      const firstAttemptAt = new Date(Date.now() - 1_000);
      og.state.action('notes', 'busy-alert', 'alias', { note: 'the one' });
      for (let i = 0; i < 150; i++) og.state.action('notes', 'busy-alert', 'alias', { note: `later ${i}` });
      expect(await notifier.reconcile(cmd, new Date(), firstAttemptAt)).toMatchObject({ type: 'PagerNoteAdded' });
      const pages = og.state.calls.filter((c) => c.route === 'listNotes');
      expect(pages).toHaveLength(2);
      expect(new URL(pages[1]!.url, og.url).searchParams.get('offset')).toMatch(/^\d+_\d+$/);
    });

    it('a look-up the pager does not answer is tried again later; one refused for good, or no open alert, adds the note', async () => {
      await notifier.execute(create('lookup-fails'));
      const cmd = note('lookup-fails');
      for (const status of [429, 500, 503]) {
        og.state.failNext('listNotes', { status });
        await expect(notifier.reconcile(cmd, new Date())).rejects.toMatchObject({ name: 'DeliveryError', permanent: false, httpStatus: status });
      }
      og.state.failNext('listNotes', { status: 403, body: { message: 'Forbidden', took: 0, requestId: 'r' } });
      expect(await notifier.reconcile(cmd, new Date())).toBeUndefined();
      expect(await notifier.reconcile(note('never-opened'), new Date())).toBeUndefined(); // its add fails as alert-not-open
      expect(adds('lookup-fails')).toEqual([]);
    });

    it('with JSM, whose integration API cannot list notes, the note is added again (it may show twice)', async () => {
      const jsm = new PagerNotifier({ provider: 'jsm', client: createPagerClient('jsm', { apiKey: og.apiKey, apiUrl: og.url }), statusPolls: 2, statusPollDelayMs: 10 });
      await jsm.execute(create('jsm-noted'));
      const cmd = note('jsm-noted');
      og.state.failNext('notes', { status: 502, afterWork: true });
      const err = (await jsm.execute(cmd).catch((e: unknown) => e)) as DeliveryError;
      expect(mayHaveTakenEffect(err, jsm, cmd)).toBe(true);
      expect(await jsm.reconcile(cmd, new Date(), new Date())).toBeUndefined();
      expect(og.state.calls.filter((c) => c.route === 'listNotes')).toEqual([]);
    });
  });

  it('describes in dry-run the exact request, under the JSM prefix for jsm', () => {
    const dry = new PagerNotifier({ provider: 'jsm' });
    const cmd = command('AcknowledgePagerAlert', 'grafana:a/b', { user: 'bob' });
    expect(dry.dryRun(cmd)).toEqual({
      type: 'PagerAlertAcknowledged',
      data: {
        provider: 'jsm',
        request: {
          method: 'POST /jsm/ops/integration/v2/alerts/grafana%3Aa%2Fb/acknowledge?identifierType=alias',
          body: { user: 'bob', source: 'alertbus' },
        },
      },
    });
    const long = dry.dryRun(command('CreatePagerAlert', 'x', { message: '€'.repeat(200), priority: 'P1', tags: [], responders: [], details: {}, source: 's' }));
    expect([...((long.data.request as { body: { message: string } }).body.message)]).toHaveLength(130);
  });
});

describe('PagerNotifier: an OPSGENIE_API_URL that routes nowhere (404) delays pages, never dead-letters them', () => {
  // The path the client appends given twice: the stand-in answers what the API gateway does, 404 "No route for POST …".
  it.each<['opsgenie' | 'jsm', string]>([
    ['jsm', '/jsm/ops/integration'],
    ['opsgenie', '/v2'],
  ])('%s with the URL ending in %s: create, close and acknowledge wait (retryable), /readyz says why, and go out once it is fixed', async (provider, suffix) => {
    const wrong = new PagerNotifier({ provider, client: createPagerClient(provider, { apiKey: og.apiKey, apiUrl: `${og.url}${suffix}` }), statusPolls: 2, statusPollDelayMs: 10 });
    for (const cmd of [create('wrong-url'), command('ClosePagerAlert', 'wrong-url'), command('AcknowledgePagerAlert', 'wrong-url')]) {
      const err = await wrong.execute(cmd).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'DeliveryError', permanent: false, httpStatus: 404, message: expect.stringMatching(/No route for POST .*check OPSGENIE_API_URL/) });
      expect(wrong.keyProblem()).toMatch(/no such route .*pages wait until OPSGENIE_API_URL .*is fixed/);
    }
    expect(og.state.alerts).toEqual([]);
    // The sink restarted with the right URL: the same command goes out.
    const right = new PagerNotifier({ provider, client: createPagerClient(provider, { apiKey: og.apiKey, apiUrl: og.url }), statusPolls: 2, statusPollDelayMs: 10 });
    expect((await right.execute(create('wrong-url'))).type).toBe('PagerAlertCreated');
    expect(right.keyProblem()).toBeUndefined();
  });

  it('an acknowledge answered 404 "Alert … does not exist" stays a permanent failure for the command, and is no configuration fault', async () => {
    og.state.failNext('acknowledge', { status: 404, body: { message: 'Alert with id [x] does not exist', took: 0.001, requestId: 'r' } });
    const err = await notifier.execute(command('AcknowledgePagerAlert', 'gone')).catch((e: unknown) => e);
    expect(err).toMatchObject({ permanent: true, httpStatus: 404 });
    expect(notifier.keyProblem()).toBeUndefined();
  });
});

describe('PagerNotifier: a create waits for the close before it whose status is still unknown (a flapping alert)', () => {
  const SETTLE_MS = 30_000;
  let clock: number;
  const fakeStore = (closes: UnconfirmedClose[] = []) => ({
    load: jest.fn(async () => closes),
    saveStatement: jest.fn((c: UnconfirmedClose, staleBeforeMs: number) => [
      { text: 'save', values: [c.alias, c.commandId, c.requestId, c.acceptedAtMs] },
      { text: 'prune', values: [staleBeforeMs] },
    ]),
    forgetStatement: jest.fn((alias: string, commandId: string, staleBeforeMs: number) => ({ text: 'forget', values: [alias, commandId, staleBeforeMs] })),
  });
  // The settle window alone bounds the wait (closeWaitMaxMs 0), except where a test gives a longer one.
  const flapping = (store?: ReturnType<typeof fakeStore>, provider: 'opsgenie' | 'jsm' = 'opsgenie', closeWaitMaxMs = 0) =>
    new PagerNotifier({
      provider,
      client: createPagerClient(provider, { apiKey: og.apiKey, apiUrl: og.url }),
      statusPolls: 2,
      statusPollDelayMs: 10,
      createSettleMs: SETTLE_MS,
      closeWaitMaxMs,
      settleLookupIntervalMs: 250,
      now: () => clock,
      ...(store ? { unconfirmedCloses: store as unknown as UnconfirmedCloseStore } : {}),
    });
  const statusCalls = () => og.state.calls.filter((c) => c.route === 'requestStatus').length;

  beforeEach(() => {
    clock = Date.parse('2026-12-07T09:00:00Z');
  });

  it('a close confirmed by its polls costs a create nothing: not held, answered at once, nothing written', async () => {
    const store = fakeStore();
    const n = flapping(store);
    const alias = 'flap-confirmed';
    n.partitionsAssigned(); // at start: what is written down is read once
    await n.execute(create(alias));
    const close = command('ClosePagerAlert', alias);
    const closed = await n.execute(close);
    expect(n.persist(close, closed)).toBeUndefined();
    const calls = statusCalls();
    expect(n.holdMs(create(alias))).toBeUndefined();
    expect(n.holdMs(command('AddPagerNote', alias, { note: 'n' }))).toBeUndefined();
    expect(statusCalls()).toBe(calls);
    expect(store.load).toHaveBeenCalledTimes(1);
  });

  it.each(['opsgenie', 'jsm'] as const)('%s: held while the close is not processed, sent once it is; written down with the close, deleted with the create', async (provider) => {
    const store = fakeStore();
    const n = flapping(store, provider);
    const alias = `flap-held-${provider}`;
    await n.execute(create(alias));
    og.state.holdNext('close');
    const close = command('ClosePagerAlert', alias);
    const closed = await n.execute(close);
    expect(closed.data).toEqual({ provider, requestId: expect.any(String) });
    const requestId = closed.data.requestId as string;
    expect(n.persist(close, closed)).toEqual([
      { text: 'save', values: [alias, close.id, requestId, clock] },
      { text: 'prune', values: [clock - SETTLE_MS] }, // the rows that can hold nothing back any more go with it
    ]);

    const create2 = create(alias);
    await expect(n.holdMs(create2)).resolves.toBe(250);
    clock += SETTLE_MS - 100;
    await expect(n.holdMs(create2)).resolves.toBe(100); // never past the window
    og.state.releaseHeld();
    await expect(n.holdMs(create2)).resolves.toBe(0);
    expect(n.holdMs(create(alias))).toBeUndefined(); // confirmed: the alias holds nothing any more
    const created = await n.execute(create2);
    expect(n.persist(create2, created)).toEqual({ text: 'forget', values: [alias, close.id, clock - SETTLE_MS] });
    expect(og.state.alerts.filter((a) => a.alias === alias)).toEqual([
      expect.objectContaining({ status: 'closed', count: 1 }),
      expect.objectContaining({ status: 'open', count: 1 }),
    ]);
  });

  it('not held once OPSGENIE_CREATE_SETTLE_MS has passed since the close was accepted: no status asked', async () => {
    const n = flapping();
    const alias = 'flap-window';
    await n.execute(create(alias));
    og.state.holdNext('close');
    await n.execute(command('ClosePagerAlert', alias));
    clock += SETTLE_MS;
    const calls = statusCalls();
    expect(n.holdMs(create(alias))).toBeUndefined(); // answered at once: the close is forgotten
    expect(statusCalls()).toBe(calls);
  });

  it('a pager slower than the settle window: held on while the close is not processed and its alert is open, up to OPSGENIE_CLOSE_WAIT_MAX_MS; sent once no alert with the alias is open', async () => {
    const WAIT_MAX_MS = 5 * 60_000;
    const store = fakeStore();
    const n = flapping(store, 'opsgenie', WAIT_MAX_MS);
    n.partitionsAssigned(); // at start: what is written down is read once
    const gets = () => og.state.calls.filter((c) => c.route === 'getAlert').length;
    const slowClose = async (alias: string) => {
      await n.execute(create(alias));
      og.state.holdNext('close');
      const close = command('ClosePagerAlert', alias);
      const closed = await n.execute(close);
      return { close, requestId: closed.data.requestId as string, persisted: n.persist(close, closed) };
    };
    const held = await slowClose('flap-slow');
    // Kept (and written down) for as long as a create may wait for it.
    expect(held.persisted).toEqual([
      { text: 'save', values: ['flap-slow', held.close.id, held.requestId, clock] },
      { text: 'prune', values: [clock - WAIT_MAX_MS] },
    ]);
    const create2 = create('flap-slow');
    clock += SETTLE_MS + 1_000;
    const before = gets();
    await expect(n.holdMs(create2)).resolves.toBe(1_250); // still not processed, the old alert open: held (asked less often)
    expect(gets()).toBe(before + 1);
    clock += WAIT_MAX_MS - SETTLE_MS - 1_100;
    await expect(n.holdMs(create2)).resolves.toBe(100); // never past the bound
    clock += 100;
    expect(n.holdMs(create2)).toBeUndefined(); // the bound reached: sent, answered at once (the risk of old, logged)
    og.state.releaseHeld();

    // The old alert closed in the pager by hand, the close still unprocessed: nothing for the create to count on.
    await slowClose('flap-by-hand');
    clock += SETTLE_MS;
    og.state.alerts.find((a) => a.alias === 'flap-by-hand' && a.status === 'open')!.status = 'closed';
    await expect(n.holdMs(create('flap-by-hand'))).resolves.toBe(0);
    og.state.releaseHeld();
  });

  /** The alias paged, then its close accepted and held unprocessed at the pager (its status unknown after the polls). */
  const closeLeftPending = async (n: PagerNotifier, alias: string) => {
    await n.execute(create(alias));
    og.state.holdNext('close');
    await n.execute(command('ClosePagerAlert', alias));
  };

  it('past the settle window, a status call without answer does not hold the create by itself: the alias decides (none open: it goes)', async () => {
    const n = flapping(undefined, 'opsgenie', 5 * 60_000);
    const alias = 'flap-status-down';
    await closeLeftPending(n, alias);
    og.state.alerts.find((a) => a.alias === alias && a.status === 'open')!.status = 'closed';
    og.state.failFor('requestStatus', { status: 503, body: { message: 'Service Unavailable', took: 0, requestId: 'r-503' } }, 60_000);
    // Within the window the status is asked again...
    await expect(n.holdMs(create(alias))).resolves.toBe(250);
    // ...past it, the alias has no open alert: nothing for the create to count on, it goes.
    clock += SETTLE_MS;
    await expect(n.holdMs(create(alias))).resolves.toBe(0);
    og.state.clearFaults();
    og.state.releaseHeld();
  });

  it("past the settle window, a status call answered 429 keeps its Retry-After: the create waits that long, the alias not asked meanwhile", async () => {
    const n = flapping(undefined, 'opsgenie', 5 * 60_000);
    const alias = 'flap-status-limited';
    await closeLeftPending(n, alias);
    clock += SETTLE_MS;
    og.state.failNext('requestStatus', { status: 429, headers: { 'retry-after': '60' }, body: { message: 'You are making too many requests!', took: 0, requestId: 'r-429' } });
    const gets = og.state.calls.filter((c) => c.route === 'getAlert').length;
    await expect(n.holdMs(create(alias))).resolves.toBe(60_000);
    expect(og.state.calls.filter((c) => c.route === 'getAlert').length).toBe(gets);
    og.state.releaseHeld();
  });

  it('with JSM (no look-up of an alert in its integration API) the wait ends at the settle window, as before, under the default OPSGENIE_CLOSE_WAIT_MAX_MS', async () => {
    const n = new PagerNotifier({
      provider: 'jsm',
      client: createPagerClient('jsm', { apiKey: og.apiKey, apiUrl: og.url }),
      statusPolls: 2,
      statusPollDelayMs: 10,
      createSettleMs: SETTLE_MS,
      settleLookupIntervalMs: 250,
      now: () => clock,
    });
    const alias = 'flap-jsm-default';
    await closeLeftPending(n, alias);
    await expect(n.holdMs(create(alias))).resolves.toBe(250);
    clock += SETTLE_MS;
    // The old alert is still open at the pager, but JSM's integration API answers no GET of it (404: none open).
    expect(og.state.alerts.some((a) => a.alias === alias && a.status === 'open')).toBe(true);
    await expect(n.holdMs(create(alias))).resolves.toBe(0);
    og.state.releaseHeld();
  });

  const kept = (n: PagerNotifier) => (n as unknown as { unconfirmed: Map<string, UnconfirmedClose> }).unconfirmed;
  const released = (n: PagerNotifier) => (n as unknown as { releasedBy: Map<string, UnconfirmedClose> }).releasedBy;

  it('forgets a close once OPSGENIE_CREATE_SETTLE_MS has passed since it was accepted, though no create ever comes for its alias', async () => {
    const n = flapping();
    for (let i = 0; i < 5; i++) {
      await n.execute(create(`flap-gone-${i}`));
      og.state.holdNext('close');
      await n.execute(command('ClosePagerAlert', `flap-gone-${i}`));
      clock += 1_000;
    }
    expect(kept(n).size).toBe(5);
    clock += SETTLE_MS - 5_000 + 1_000; // the first two accepted a settle window ago or more
    expect(n.holdMs(create('another-alias'))).toBeUndefined();
    expect([...kept(n).keys()]).toEqual(['flap-gone-2', 'flap-gone-3', 'flap-gone-4']);
    // A close noted later goes after them (the order they are dropped in), the others go when their window is over.
    await n.execute(create('flap-gone-late'));
    og.state.holdNext('close');
    await n.execute(command('ClosePagerAlert', 'flap-gone-late'));
    clock += 3_000;
    expect(n.holdMs(create('another-alias'))).toBeUndefined();
    expect([...kept(n).keys()]).toEqual(['flap-gone-late']);
    clock += SETTLE_MS;
    expect(n.holdMs(create('flap-gone-late'))).toBeUndefined();
    expect(kept(n).size).toBe(0);
  });

  it('a partition assignment replaces the closes kept in memory with those written down (a partition gone to another instance), but keeps one whose completion may still be on its way', async () => {
    const store = fakeStore();
    const n = flapping(store);
    n.partitionsAssigned();
    await expect(n.holdMs(create('nothing-yet'))).resolves.toBe(0);
    await n.execute(create('flap-moved'));
    og.state.holdNext('close');
    await n.execute(command('ClosePagerAlert', 'flap-moved'));
    clock += COMPLETION_IN_FLIGHT_MS + 1; // well within the settle window: the close could still hold a create back
    await n.execute(create('flap-in-flight'));
    og.state.holdNext('close');
    await n.execute(command('ClosePagerAlert', 'flap-in-flight'));

    // The store has neither (another instance owns flap-moved's partition now, and deleted its row), but a row of its own.
    const elsewhere: UnconfirmedClose = { alias: 'flap-written', commandId: 'c', requestId: 'r', acceptedAtMs: clock - 1_000 };
    store.load.mockResolvedValueOnce([elsewhere]);
    n.partitionsAssigned();
    await expect(Promise.resolve(n.holdMs(create('another-alias')))).resolves.toBe(0);
    expect([...kept(n).keys()]).toEqual(['flap-written', 'flap-in-flight']);
    expect(n.holdMs(create('flap-moved'))).toBeUndefined();
  });

  it('a create released by a close and then refused for good forgets that close with its failure, as with a completion', async () => {
    const store = fakeStore();
    const n = flapping(store);
    const alias = 'flap-create-refused';
    await n.execute(create(alias));
    og.state.holdNext('close');
    const close = command('ClosePagerAlert', alias);
    await n.execute(close);
    og.state.releaseHeld();
    const create2 = create(alias);
    await expect(n.holdMs(create2)).resolves.toBe(0);
    expect(released(n).size).toBe(1);
    // 422: permanent, dead-lettered; the runner asks for the rows kept with the failure.
    expect(n.persistFailure(create2)).toEqual({ text: 'forget', values: [alias, close.id, clock - SETTLE_MS] });
    expect(released(n).size).toBe(0);
    expect(n.persistFailure(create2)).toBeUndefined();
    expect(n.persistFailure(command('ClosePagerAlert', alias))).toBeUndefined();
  });

  it('a status call refused for good lets the create go; one that gets no answer (503) holds it again', async () => {
    const n = flapping();
    const alias = 'flap-status-fails';
    await n.execute(create(alias));
    og.state.holdNext('close');
    await n.execute(command('ClosePagerAlert', alias));
    og.state.failNext('requestStatus', { status: 503, body: { message: 'Service Unavailable' } });
    await expect(n.holdMs(create(alias))).resolves.toBe(250);
    og.state.failNext('requestStatus', { status: 403, body: { message: 'You do not have the right to perform this action', took: 0, requestId: 'r' } });
    await expect(n.holdMs(create(alias))).resolves.toBe(0);
    expect(n.holdMs(create(alias))).toBeUndefined();
  });

  it('after a partition assignment, the closes written down (by this process before a restart, or by another instance) are read before a create decides', async () => {
    const alias = 'flap-restart';
    const old = flapping();
    await old.execute(create(alias));
    og.state.holdNext('close');
    const close = command('ClosePagerAlert', alias);
    const closed = await old.execute(close);
    const written: UnconfirmedClose = { alias, commandId: close.id, requestId: closed.data.requestId as string, acceptedAtMs: clock };

    const store = fakeStore([written]);
    const n = flapping(store);
    n.partitionsAssigned();
    expect(store.load).toHaveBeenCalledWith(clock - SETTLE_MS);
    await expect(n.holdMs(create(alias))).resolves.toBe(250);
    expect(n.holdMs(create('another-alias'))).toBeUndefined(); // read once per assignment
    og.state.releaseHeld();
    await expect(n.holdMs(create(alias))).resolves.toBe(0);
  });

  it('a read that fails (Postgres) fails the create\'s hold (retried as an infrastructure fault), which reads again rather than go without', async () => {
    const store = fakeStore();
    store.load.mockRejectedValueOnce(new Error('connection refused'));
    const n = flapping(store);
    n.partitionsAssigned();
    await expect(n.holdMs(create('flap-pg'))).rejects.toThrow('connection refused');
    await expect(n.holdMs(create('flap-pg'))).resolves.toBe(0);
    expect(store.load).toHaveBeenCalledTimes(2);
    expect(n.holdMs(create('flap-pg'))).toBeUndefined();
  });
});
