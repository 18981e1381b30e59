import { DeliveryError } from '@alertbus/common';
import { startOpsgenieStandIn, type OpsgenieStandIn } from '@alertbus/stand-ins';
import { createPagerClient } from '../create-pager-client';
import type { PagerClient, PagerProvider } from '../pager-client';

/** The same wire behaviour is expected of both providers, against the one stand-in that serves both prefixes. */
describe.each<PagerProvider>(['opsgenie', 'jsm'])('%s PagerClient against the stand-in', (provider) => {
  let og: OpsgenieStandIn;
  let client: PagerClient;
  const alias = 'alertmanager:fp/01 with:odd chars?&#';

  const failure = async (p: Promise<unknown>): Promise<DeliveryError> => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeliveryError);
    return err as DeliveryError;
  };

  beforeEach(async () => {
    og = await startOpsgenieStandIn();
    client = createPagerClient(provider, { apiKey: og.apiKey, apiUrl: og.url });
  });
  afterEach(async () => {
    await og.close();
  });

  it('creates an alert (202 + requestId), confirms it by request status and finds it open by alias', async () => {
    const accepted = await client.create({
      message: 'Disk full',
      alias,
      priority: 'P1',
      tags: ['disk', 'db'],
      responders: [{ type: 'team', name: 'sre' }],
      details: { host: 'db-1' },
      source: 'alertbus',
    });
    expect(accepted.requestId).toEqual(expect.any(String));
    const status = await client.requestStatus(accepted.requestId);
    expect(status).toMatchObject({ isSuccess: true, action: 'Create', alias });
    const open = await client.getOpenByAlias(alias);
    // JSM's integration API has no GET of an alert: its not-found answer reads as "none open".
    if (provider === 'jsm') expect(open).toBeUndefined();
    else expect(open).toMatchObject({ id: status!.alertId, alias, status: 'open', count: 1 });
    expect(og.state.alerts).toEqual([
      expect.objectContaining({ alias, priority: 'P1', tags: ['disk', 'db'], responders: [{ type: 'team', name: 'sre' }], flavour: provider }),
    ]);
    expect(og.state.calls.every((c) => c.flavour === provider)).toBe(true);
  });

  it('closes, acknowledges and notes by (URL-encoded) alias', async () => {
    await client.create({ message: 'm', alias });
    await client.acknowledge(alias, { user: 'alice' });
    await client.addNote(alias, { note: 'looking', user: 'alice' });
    const closed = await client.close(alias, { note: 'resolved', source: 'alertbus' });
    expect((await client.requestStatus(closed.requestId))?.isSuccess).toBe(true);
    expect(og.state.alerts[0]).toMatchObject({ status: 'closed', acknowledged: true, notes: [{ note: 'looking' }, { note: 'resolved' }].map(expect.objectContaining) });
    expect(og.state.calls.filter((c) => c.identifier !== undefined).map((c) => c.identifier)).toEqual([alias, alias, alias]);
    expect(await client.getOpenByAlias(alias)).toBeUndefined();
  });

  it('reports a close of an alias with no open alert through the request status, not the HTTP status', async () => {
    const accepted = await client.close('never-created', {});
    expect(await client.requestStatus(accepted.requestId)).toMatchObject({ isSuccess: false, status: 'Alert does not exist' });
    expect(await client.requestStatus('00000000-0000-4000-8000-000000000000')).toBeUndefined();
  });

  it('lists the open alert\'s notes newest first, 100 a page, by the offset paging.next names (Opsgenie); JSM\'s integration API has no such call', async () => {
    if (provider === 'jsm') {
      expect(client.listNotes).toBeUndefined();
      return;
    }
    await client.create({ message: 'm', alias });
    for (let i = 0; i < 120; i++) og.state.action('notes', alias, 'alias', { note: `note ${i}`, user: 'alertbus' });
    const first = await client.listNotes!(alias);
    expect(first!.notes).toHaveLength(100);
    expect(first!.notes[0]).toMatchObject({ note: 'note 119', owner: 'alertbus', createdAt: expect.any(String), offset: expect.any(String) });
    expect(first!.next).toBe(first!.notes[99]!.offset);
    const second = await client.listNotes!(alias, first!.next);
    expect(second!.notes.map((n) => n.note)).toEqual(Array.from({ length: 20 }, (_, i) => `note ${19 - i}`));
    expect(second!.next).toBeUndefined();
    expect(og.state.calls.filter((c) => c.route === 'listNotes')).toEqual([
      expect.objectContaining({ method: 'GET', identifier: alias, identifierType: 'alias', status: 200 }),
      expect.objectContaining({ method: 'GET', identifier: alias, identifierType: 'alias', status: 200 }),
    ]);
    // No open alert with the alias: undefined; a 5xx retryable, a 403 permanent, as for every call.
    expect(await client.listNotes!('never-opened')).toBeUndefined();
    og.state.failNext('listNotes', { status: 502 });
    expect(await failure(client.listNotes!(alias))).toMatchObject({ permanent: false, httpStatus: 502 });
    og.state.failNext('listNotes', { status: 403 });
    expect(await failure(client.listNotes!(alias))).toMatchObject({ permanent: true, httpStatus: 403 });
  });

  it('maps 429 to a retryable error carrying Retry-After', async () => {
    og.state.failNext('create', { status: 429, retryAfter: 1 });
    const err = await failure(client.create({ message: 'm', alias: 'a' }));
    expect(err).toMatchObject({ permanent: false, httpStatus: 429, retryAfterMs: 1000 });
    expect(err.message).toContain('TooManyRequests');
  });

  it('falls back to X-RateLimit-Period-In-Sec when a 429 has no Retry-After', async () => {
    og.state.failNext('close', { status: 429, headers: { 'X-RateLimit-Period-In-Sec': '7' } });
    expect(await failure(client.close('a', {}))).toMatchObject({ permanent: false, httpStatus: 429, retryAfterMs: 7000 });
  });

  it('maps 5xx to retryable and makes exactly one HTTP attempt per call (no SDK-side retries)', async () => {
    og.state.failNext('create', { status: 500 }, 5);
    const err = await failure(client.create({ message: 'm', alias: 'a' }));
    expect(err).toMatchObject({ permanent: false, httpStatus: 500 });
    expect(err.retryAfterMs).toBeUndefined();
    expect(og.state.calls).toHaveLength(1);
  });

  it('maps 422 to a permanent error naming the fields', async () => {
    const err = await failure(client.create({ message: 'x'.repeat(131), alias: 'a', tags: ['y'.repeat(51)] }));
    expect(err).toMatchObject({ permanent: true, httpStatus: 422 });
    expect(err.message).toMatch(/message: .*130/);
    expect(err.message).toContain('tags: ');
  });

  it('maps 401 to permanent without ever putting the key in the message', async () => {
    const secret = 'super-secret-genie-key-123';
    const bad = createPagerClient(provider, { apiKey: secret, apiUrl: og.url });
    const prev = process.env.NODE_ENV;
    process.env.NODE_ENV = 'development'; // makes the SDK attach the whole request (with Authorization) to its errors
    try {
      const err = await failure(bad.create({ message: 'm', alias: 'a' }));
      expect(err).toMatchObject({ permanent: true, httpStatus: 401 });
      expect(JSON.stringify({ ...err, message: err.message, stack: err.stack })).not.toContain(secret);
    } finally {
      process.env.NODE_ENV = prev;
    }
  });

  it('survives a non-JSON error page (a proxy\'s 502 is retryable, a 400 page permanent)', async () => {
    og.state.failNext('create', { status: 502, body: '<html><body>Bad gateway</body></html>' });
    const err = await failure(client.create({ message: 'm', alias: 'a' }));
    expect(err).toMatchObject({ permanent: false, httpStatus: 502 });
    expect(err.message).toContain('Bad gateway');
    if (provider === 'opsgenie') {
      og.state.failNext('getAlert', { status: 400, body: 'nope' });
      expect(await failure(client.getOpenByAlias('a'))).toMatchObject({ permanent: true, httpStatus: 400 });
    }
    og.state.failNext('getAlert', { status: 404, body: '' });
    expect(await client.getOpenByAlias('a')).toBeUndefined();
  });

  it('maps a refused connection to a retryable error, without console output', async () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const down = createPagerClient(provider, { apiKey: og.apiKey, apiUrl: 'http://127.0.0.1:1' });
      const err = await failure(down.create({ message: 'm', alias: 'a' }));
      expect(err.permanent).toBe(false);
      expect(err.httpStatus).toBeUndefined();
      expect(err.message).toMatch(/network error/);
      expect(log).not.toHaveBeenCalled();
    } finally {
      log.mockRestore();
    }
  });
});

describe('opsgenie-sdk global configuration', () => {
  it('keeps two clients with different keys and hosts in one process apart, even interleaved', async () => {
    const a = await startOpsgenieStandIn({ apiKeys: ['key-a'] });
    const b = await startOpsgenieStandIn({ apiKeys: ['key-b'] });
    try {
      const ca = createPagerClient('opsgenie', { apiKey: 'key-a', apiUrl: a.url });
      const cb = createPagerClient('opsgenie', { apiKey: 'key-b', apiUrl: `${b.url}/` });
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? ca : cb).create({ message: `m${i}`, alias: `alias-${i}` })),
      );
      expect(a.state.alerts.map((x) => x.alias).sort()).toEqual(['alias-0', 'alias-2', 'alias-4', 'alias-6', 'alias-8']);
      expect(b.state.alerts.map((x) => x.alias).sort()).toEqual(['alias-1', 'alias-3', 'alias-5', 'alias-7', 'alias-9']);
      expect([...a.state.calls, ...b.state.calls].every((c) => c.status === 202)).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
