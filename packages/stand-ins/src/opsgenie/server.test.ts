import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { JSM_INTEGRATION_PREFIX, OPSGENIE_STAND_IN_KEY, startOpsgenieStandIn, type OpsgenieStandIn } from './server';

const FIXTURES = resolve(__dirname, '../../../..', '../shared/fixtures/opsgenie');
const fixture = (name: string) => JSON.parse(readFileSync(resolve(FIXTURES, name), 'utf8')) as Record<string, unknown>;
const keysOf = (o: unknown) => Object.keys(o as object).sort();

let og: OpsgenieStandIn;

async function call(
  method: string,
  path: string,
  body?: unknown,
  auth: string | null = `GenieKey ${OPSGENIE_STAND_IN_KEY}`,
): Promise<{ status: number; headers: Headers; json: any }> {
  const res = await fetch(`${og.url}${path}`, {
    method,
    headers: { ...(auth ? { authorization: auth } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

const status = async (requestId: string) => (await call('GET', `/v2/alerts/requests/${requestId}`)).json;

beforeEach(async () => {
  og = await startOpsgenieStandIn({ onCall: { ops: ['alice@example.com', 'bob@example.com'] } });
});
afterEach(async () => {
  await og.close();
});

describe('Opsgenie Alert API stand-in', () => {
  it('accepts a create with 202 and a requestId, like the real API, and reports the created alert in the request status', async () => {
    const res = await call('POST', '/v2/alerts', { message: 'Disk full on db-1', alias: 'alertmanager:abc', priority: 'P2' });
    expect(res.status).toBe(202);
    expect(keysOf(res.json)).toEqual(keysOf(fixture('create_alert_202.json')));
    expect(res.json.result).toBe('Request will be processed');
    expect(res.headers.get('x-request-id')).toBe(res.json.requestId);

    const st = await status(res.json.requestId);
    expect(keysOf(st)).toEqual(keysOf(fixture('request_status_success_create.json')));
    expect(keysOf(st.data)).toEqual(keysOf(fixture('request_status_success_create.json').data));
    expect(st.data).toMatchObject({ isSuccess: true, success: true, action: 'Create', status: 'Created alert', alias: 'alertmanager:abc' });
    expect(og.state.alerts).toHaveLength(1);
    expect(og.state.alerts[0]).toMatchObject({ id: st.data.alertId, priority: 'P2', status: 'open', createdBy: res.json.requestId });
  });

  it('answers 401 with Opsgenie\'s error body when the GenieKey is missing or unknown, and changes nothing', async () => {
    for (const auth of [null, 'GenieKey wrong-key', `Bearer ${OPSGENIE_STAND_IN_KEY}`]) {
      const res = await call('POST', '/v2/alerts', { message: 'x' }, auth);
      expect(res.status).toBe(401);
      expect(keysOf(res.json)).toEqual(['message', 'requestId', 'took']);
    }
    expect(og.state.alerts).toHaveLength(0);
  });

  it('rejects invalid bodies with 422 and errors{field: reason}', async () => {
    const res = await call('POST', '/v2/alerts', {
      message: 'x'.repeat(131),
      alias: 'a'.repeat(513),
      priority: 'P9',
      tags: Array.from({ length: 21 }, (_, i) => `t${i}`),
      responders: [{ type: 'bb', name: 'ops' }],
    });
    expect(res.status).toBe(422);
    expect(keysOf(res.json)).toEqual(keysOf(fixture('error_422_unprocessable.json')));
    expect(Object.keys(res.json.errors).sort()).toEqual(['alias', 'message', 'priority', 'responders#type', 'tags']);
    expect(res.json.errors['responders#type']).toBe("Invalid recipient type 'bb'");

    expect((await call('POST', '/v2/alerts', { description: 'no message' })).json.errors).toHaveProperty('message');
    expect((await call('POST', '/v2/alerts', { message: 'ok', tags: ['x'.repeat(51)] })).status).toBe(422);
    expect((await call('POST', '/v2/alerts/a/notes?identifierType=alias', {})).json.errors).toHaveProperty('note');
    expect(og.state.alerts).toHaveLength(0);
  });

  it('counts a create for an open alias instead of opening a second alert, and opens a new one after close', async () => {
    const alias = 'grafana:fp/with spaces:and:colons';
    await call('POST', '/v2/alerts', { message: 'first', alias });
    const again = await call('POST', '/v2/alerts', { message: 'second', alias });
    expect(again.status).toBe(202);
    expect((await status(again.json.requestId)).data.alertId).toBe(og.state.alerts[0]!.id);

    const got = await call('GET', `/v2/alerts/${encodeURIComponent(alias)}?identifierType=alias`);
    expect(got.status).toBe(200);
    expect(got.json.data).toMatchObject({ alias, count: 2, message: 'first', status: 'open' });
    expect(got.json.data).not.toHaveProperty('notes');
    expect(og.state.alerts).toHaveLength(1);

    const closed = await call('POST', `/v2/alerts/${encodeURIComponent(alias)}/close?identifierType=alias`, { user: 'alertbus', note: 'resolved' });
    expect(closed.status).toBe(202);
    expect((await status(closed.json.requestId)).data).toMatchObject({ isSuccess: true, action: 'Close' });
    expect(og.state.alerts[0]).toMatchObject({ status: 'closed', notes: [expect.objectContaining({ note: 'resolved' })] });
    expect((await call('GET', `/v2/alerts/${encodeURIComponent(alias)}?identifierType=alias`)).status).toBe(404);

    await call('POST', '/v2/alerts', { message: 'third', alias });
    expect(og.state.alerts.map((a) => a.status)).toEqual(['closed', 'open']);
  });

  it('finds each of many alerts by id, tiny id and alias, an alias-less one by its id, and forgets them all on reset', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const res = await call('POST', '/v2/alerts', { message: `m${i}`, alias: `a${i}` });
      ids.push((await status(res.json.requestId)).data.alertId);
    }
    const bare = await call('POST', '/v2/alerts', { message: 'no alias' });
    const bareId = (await status(bare.json.requestId)).data.alertId as string;
    expect((await call('GET', `/v2/alerts/${ids[17]}`)).json.data).toMatchObject({ alias: 'a17', message: 'm17' });
    expect((await call('GET', '/v2/alerts/31?identifierType=tiny')).json.data).toMatchObject({ alias: 'a30', tinyId: '31' });
    expect((await call('GET', '/v2/alerts/a42?identifierType=alias')).json.data).toMatchObject({ id: ids[42] });
    expect((await call('GET', `/v2/alerts/${bareId}?identifierType=alias`)).json.data).toMatchObject({ id: bareId, alias: bareId, message: 'no alias' });
    const closed = await call('POST', `/v2/alerts/${ids[5]}/close`, {});
    expect((await status(closed.json.requestId)).data).toMatchObject({ isSuccess: true, alias: 'a5' });
    expect((await call('GET', '/v2/alerts/a5?identifierType=alias')).status).toBe(404);
    expect((await call('GET', `/v2/alerts/${ids[5]}`)).json.data).toMatchObject({ status: 'closed' });

    og.state.reset();
    expect((await call('GET', `/v2/alerts/${ids[17]}`)).status).toBe(404);
    expect((await call('GET', '/v2/alerts/31?identifierType=tiny')).status).toBe(404);
    expect((await call('GET', '/v2/alerts/a42?identifierType=alias')).status).toBe(404);
    const again = await call('POST', '/v2/alerts', { message: 'after reset', alias: 'a42' });
    expect((await status(again.json.requestId)).data.alertId).not.toBe(ids[42]);
    expect(og.state.alerts).toEqual([expect.objectContaining({ alias: 'a42', message: 'after reset', count: 1 })]);
  });

  it('answers 202 for an action on an unknown alias; the request status says the alert does not exist', async () => {
    const res = await call('POST', '/v2/alerts/nope/acknowledge?identifierType=alias', {});
    expect(res.status).toBe(202);
    const st = await status(res.json.requestId);
    expect(keysOf(st.data)).toEqual(keysOf(fixture('request_status_failure_alert_does_not_exist.json').data));
    expect(st.data).toMatchObject({ success: false, isSuccess: false, status: 'Alert does not exist', action: 'Acknowledge', alertId: '' });
    expect((await call('GET', '/v2/alerts/requests/00000000-0000-0000-0000-000000000000')).status).toBe(404);
  });

  it('acknowledges and adds notes by alias, and accepts the SDK\'s trailing-slash paths', async () => {
    await call('POST', '/v2/alerts/', { message: 'm', alias: 'a1' });
    expect((await call('POST', '/v2/alerts/a1/acknowledge/?identifierType=alias', { user: 'u' })).status).toBe(202);
    expect((await call('POST', '/v2/alerts/a1/notes/?identifierType=alias', { note: 'looking' })).status).toBe(202);
    expect(og.state.alerts[0]).toMatchObject({ acknowledged: true, status: 'open', notes: [expect.objectContaining({ note: 'looking' })] });
  });

  it('updates an open alert\'s priority by alias (PUT, 202, then the request status), refuses a bad priority with 422, and has no such call under JSM', async () => {
    await call('POST', '/v2/alerts', { message: 'm', alias: 'a1', priority: 'P3' });
    const res = await call('PUT', '/v2/alerts/a1/priority?identifierType=alias', { priority: 'P1' });
    expect(res.status).toBe(202);
    expect((await status(res.json.requestId)).data).toMatchObject({ isSuccess: true, action: 'UpdatePriority', alias: 'a1' });
    expect(og.state.alerts[0]).toMatchObject({ priority: 'P1' });
    const bad = await call('PUT', '/v2/alerts/a1/priority?identifierType=alias', { priority: 'P0' });
    expect(bad.status).toBe(422);
    expect(bad.json.errors).toHaveProperty('priority');
    // No open alert with the alias: accepted, and the request status says so.
    const missing = await call('PUT', '/v2/alerts/nope/priority?identifierType=alias', { priority: 'P2' });
    expect((await status(missing.json.requestId)).data).toMatchObject({ isSuccess: false, status: 'Alert does not exist' });
    expect((await call('PUT', `${JSM_INTEGRATION_PREFIX}/v2/alerts/a1/priority?identifierType=alias`, { priority: 'P2' })).status).toBe(404);
    expect(og.state.alerts[0]).toMatchObject({ priority: 'P1' });
  });

  it('throttles per domain with 429 and the rate-limit headers', async () => {
    og.state.setRateLimit({ capacity: 1, refillPerSec: 0.01, periodInSec: 60 });
    expect((await call('POST', '/v2/alerts', { message: 'one' })).status).toBe(202);
    const res = await call('POST', '/v2/alerts', { message: 'two' });
    expect(res.status).toBe(429);
    expect(keysOf(res.json)).toEqual(keysOf(fixture('error_429_too_many_requests.json')));
    expect(res.json.message).toBe('TooManyRequests');
    expect(res.headers.get('x-ratelimit-state')).toBe('THROTTLED');
    expect(res.headers.get('x-ratelimit-reason')).toBe('ACCOUNT');
    expect(res.headers.get('x-ratelimit-period-in-sec')).toBe('60');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another domain has its own bucket.
    expect((await call('GET', '/v2/schedules/ops/on-calls?scheduleIdentifierType=name&flat=true')).status).toBe(200);
    expect(og.state.alerts).toHaveLength(1);
  });

  it('fails the next requests as scripted, in-process and over HTTP, without processing them', async () => {
    og.state.failNext('create', { status: 429, retryAfter: 1 }, 2);
    const first = await call('POST', '/v2/alerts', { message: 'm' });
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('1');
    expect(first.headers.get('x-ratelimit-state')).toBe('THROTTLED');
    expect((await call('POST', '/v2/alerts', { message: 'm' })).status).toBe(429);
    expect((await call('POST', '/v2/alerts', { message: 'm' })).status).toBe(202);

    const set = await fetch(`${og.url}/_stand-in/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ route: 'close', status: 500, body: fixture('error_500_internal.json') }),
    });
    expect(set.status).toBe(204);
    const failed = await call('POST', '/v2/alerts/x/close?identifierType=alias', {});
    expect(failed.status).toBe(500);
    expect(failed.json.message).toBe('Internal Server Error');

    const alerts = (await (await fetch(`${og.url}/_stand-in/alerts`)).json()) as { alerts: unknown[] };
    expect(alerts.alerts).toHaveLength(1);
    const calls = (await (await fetch(`${og.url}/_stand-in/calls`)).json()) as { calls: Array<{ route: string; status: number; fault?: boolean }> };
    expect(calls.calls.map((c) => `${c.route}:${c.status}${c.fault ? ':fault' : ''}`)).toEqual([
      'create:429:fault',
      'create:429:fault',
      'create:202',
      'close:500:fault',
    ]);
  });

  it('fails every request for a period, like an outage or a 429 storm, with Opsgenie\'s error bodies, until it ends or is cleared', async () => {
    await og.close();
    let clock = Date.parse('2026-11-22T08:00:00Z');
    og = await startOpsgenieStandIn({ now: () => new Date(clock) });
    const set = await fetch(`${og.url}/_stand-in/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 503, forMs: 120_000 }),
    });
    expect(set.status).toBe(204);
    for (const [method, path] of [['POST', '/v2/alerts'], ['POST', '/v2/alerts/a/close?identifierType=alias'], ['GET', '/v2/alerts/a?identifierType=alias']]) {
      const res = await call(method!, path!, method === 'POST' ? { message: 'm', alias: 'a' } : undefined);
      expect(res.status).toBe(503);
      expect(keysOf(res.json)).toEqual(keysOf(fixture('error_500_internal.json')));
      expect(res.json.message).toBe('Service Unavailable');
    }
    clock += 119_000;
    expect((await call('POST', '/v2/alerts', { message: 'm', alias: 'a' })).status).toBe(503);
    clock += 1_000; // the window is over: the API answers again
    expect((await call('POST', '/v2/alerts', { message: 'm', alias: 'a' })).status).toBe(202);
    expect(og.state.alerts).toHaveLength(1);

    og.state.failFor('create', { status: 429, retryAfter: 90 }, 60_000);
    const limited = await call('POST', '/v2/alerts', { message: 'm', alias: 'b' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('90');
    expect(limited.headers.get('x-ratelimit-state')).toBe('THROTTLED');
    expect(keysOf(limited.json)).toEqual(keysOf(fixture('error_429_too_many_requests.json')));
    expect((await call('POST', '/v2/alerts/a/close?identifierType=alias', {})).status).toBe(202); // other routes are fine
    expect((await fetch(`${og.url}/_stand-in/faults`, { method: 'DELETE' })).status).toBe(204);
    expect((await call('POST', '/v2/alerts', { message: 'm', alias: 'b' })).status).toBe(202);

    const bad = await fetch(`${og.url}/_stand-in/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 503, forMs: 1_000, times: 2 }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/either times .* or forMs/);
  });

  it('serves the same alert API under the JSM Ops integration prefix', async () => {
    const res = await call('POST', `${JSM_INTEGRATION_PREFIX}/v2/alerts`, { message: 'via jsm', alias: 'j1' });
    expect(res.status).toBe(202);
    const st = await call('GET', `${JSM_INTEGRATION_PREFIX}/v2/alerts/requests/${res.json.requestId}`);
    expect(st.json.data).toMatchObject({ isSuccess: true, alias: 'j1' });
    expect((await call('POST', `${JSM_INTEGRATION_PREFIX}/v2/alerts/j1/close?identifierType=alias`, {})).status).toBe(202);
    expect(og.state.alerts[0]).toMatchObject({ flavour: 'jsm', status: 'closed' });
    expect(og.state.calls.every((c) => c.flavour === 'jsm')).toBe(true);
  });

  it('answers who is on call, flat and nested', async () => {
    const flat = await call('GET', '/v2/schedules/ops/on-calls?scheduleIdentifierType=name&flat=true');
    expect(flat.json.data.onCallRecipients).toEqual(['alice@example.com', 'bob@example.com']);
    const nested = await call('GET', `/v2/schedules/${flat.json.data._parent.id}/on-calls`);
    expect(keysOf(nested.json.data)).toEqual(keysOf(fixture('schedule_who_is_on_call_nonflat.json').data));
    expect(nested.json.data.onCallParticipants.map((p: { name: string; type: string }) => `${p.type}:${p.name}`)).toEqual([
      'user:alice@example.com',
      'user:bob@example.com',
    ]);
    expect((await call('GET', '/v2/schedules/none/on-calls?scheduleIdentifierType=name')).status).toBe(404);
  });

  it('applies requests asynchronously when a processing delay is set: the status is 404 until processed', async () => {
    og.state.processingDelayMs = 300;
    const res = await call('POST', '/v2/alerts', { message: 'later', alias: 'slow' });
    expect(res.status).toBe(202);
    expect((await call('GET', `/v2/alerts/requests/${res.json.requestId}`)).status).toBe(404);
    let st: { status: number } = { status: 404 };
    for (let i = 0; i < 100 && st.status === 404; i++) {
      await new Promise((r) => setTimeout(r, 50));
      st = await call('GET', `/v2/alerts/requests/${res.json.requestId}`);
    }
    expect(st.status).toBe(200);
    expect(og.state.alerts).toHaveLength(1);
  });

  it('holds accepted requests until processPending; a second create for the alias then only counts, like Opsgenie', async () => {
    og.state.processingDelayMs = 60 * 60_000;
    const first = await call('POST', '/v2/alerts', { message: 'held', alias: 'held' });
    expect((await call('GET', '/v2/alerts/held?identifierType=alias')).status).toBe(404); // accepted, not processed
    await call('POST', '/v2/alerts', { message: 'held again', alias: 'held' });
    expect(og.state.pendingRequests).toBe(2);
    og.state.processPending();
    expect(og.state.pendingRequests).toBe(0);
    expect(og.state.alerts).toEqual([expect.objectContaining({ alias: 'held', message: 'held', count: 2 })]);
    expect((await status(first.json.requestId)).data).toMatchObject({ isSuccess: true, alias: 'held' });
  });

  it('holds the next close (holdNext): its status is 404 while a later create is processed first, into the still-open alert', async () => {
    await call('POST', '/v2/alerts', { message: 'first', alias: 'flap' });
    const [first] = og.state.alerts;
    // Over HTTP, as a demo or a process-level test would set it.
    expect((await call('POST', '/_stand-in/hold', { route: 'close' })).status).toBe(204);
    const close = await call('POST', '/v2/alerts/flap/close?identifierType=alias', {});
    expect(close.status).toBe(202);
    expect((await call('GET', `/v2/alerts/requests/${close.json.requestId}`)).status).toBe(404);
    const again = await call('POST', '/v2/alerts', { message: 'second occurrence', alias: 'flap' });
    expect((await status(again.json.requestId)).data).toMatchObject({ isSuccess: true, alertId: first!.id });
    expect(og.state.heldRequests).toBe(1);
    expect((await call('POST', '/_stand-in/release')).status).toBe(204);
    expect((await status(close.json.requestId)).data).toMatchObject({ isSuccess: true, action: 'Close', alertId: first!.id });
    // The second occurrence counted on the old alert, which the close then closed: nothing is open for the alias.
    expect(og.state.alerts).toEqual([expect.objectContaining({ alias: 'flap', count: 2, status: 'closed' })]);
    expect(og.state.pendingRequests).toBe(0);
    expect((await call('POST', '/_stand-in/hold', { route: 'nope' })).status).toBe(400);
  });

  it('lists an alert\'s notes newest first by alias, in Opsgenie\'s shape, paged by offset, direction, limit and order', async () => {
    let clock = Date.parse('2026-11-22T08:00:00Z');
    await og.close();
    og = await startOpsgenieStandIn({ now: () => new Date(clock) });
    await call('POST', '/v2/alerts', { message: 'm', alias: 'noted', note: 'opened' });
    for (const n of ['one', 'two', 'three', 'four']) {
      clock += 1_000;
      expect((await call('POST', '/v2/alerts/noted/notes?identifierType=alias', { note: n, user: 'alertbus', source: 'alertbus' })).status).toBe(202);
    }
    const texts = (r: { json: { data: Array<{ note: string }> } }) => r.json.data.map((n) => n.note);

    const all = await call('GET', '/v2/alerts/noted/notes?identifierType=alias');
    expect(all.status).toBe(200);
    expect(keysOf(all.json)).toEqual(['data', 'paging', 'requestId', 'took']);
    expect(texts(all)).toEqual(['four', 'three', 'two', 'one', 'opened']);
    expect(keysOf(all.json.data[0])).toEqual(['createdAt', 'note', 'offset', 'owner']);
    expect(all.json.data[0]).toMatchObject({ owner: 'alertbus', createdAt: '2026-11-22T08:00:04.000Z', offset: expect.stringMatching(/^\d+_\d+$/) });
    expect(all.json.paging.next).toBeUndefined();

    // Two a page: each page's `next` carries the offset of its last note, until none is left.
    const first = await call('GET', '/v2/alerts/noted/notes?identifierType=alias&limit=2');
    expect(texts(first)).toEqual(['four', 'three']);
    expect(first.headers.get('x-paging-next')).toBe(first.json.paging.next);
    const next = new URL(first.json.paging.next as string);
    expect(Object.fromEntries(next.searchParams)).toEqual({ identifierType: 'alias', offset: all.json.data[1].offset, order: 'desc', direction: 'next', limit: '2' });
    const second = await call('GET', `${next.pathname}${next.search}`);
    expect(texts(second)).toEqual(['two', 'one']);
    const third = await call('GET', `/v2/alerts/noted/notes?identifierType=alias&limit=2&offset=${second.json.data[1].offset}`);
    expect(texts(third)).toEqual(['opened']);
    expect(third.json.paging.next).toBeUndefined();
    // Oldest first, and the page before an offset.
    expect(texts(await call('GET', '/v2/alerts/noted/notes?identifierType=alias&order=asc&limit=3'))).toEqual(['opened', 'one', 'two']);
    expect(texts(await call('GET', `/v2/alerts/noted/notes?identifierType=alias&limit=2&direction=prev&offset=${all.json.data[2].offset}`))).toEqual(['four', 'three']);

    // By id as well; an alias with no open alert is a 404; bad parameters a 422 naming them; JSM's API has no such call.
    expect(texts(await call('GET', `/v2/alerts/${og.state.alerts[0]!.id}/notes`))).toHaveLength(5);
    expect(await call('GET', '/v2/alerts/nothing-open/notes?identifierType=alias')).toMatchObject({ status: 404, json: { message: 'Alert does not exist' } });
    const bad = await call('GET', '/v2/alerts/noted/notes?identifierType=alias&limit=101&order=up&direction=back&offset=x');
    expect(bad.status).toBe(422);
    expect(Object.keys(bad.json.errors).sort()).toEqual(['direction', 'limit', 'offset', 'order']);
    expect((await call('GET', `${JSM_INTEGRATION_PREFIX}/v2/alerts/noted/notes?identifierType=alias`)).status).toBe(404);
  });

  it('throttles and fails a notes listing like any alert call', async () => {
    await call('POST', '/v2/alerts', { message: 'm', alias: 'busy' });
    og.state.failNext('listNotes', { status: 500, body: fixture('error_500_internal.json') });
    expect((await call('GET', '/v2/alerts/busy/notes?identifierType=alias')).status).toBe(500);
    og.state.setRateLimit({ capacity: 1, refillPerSec: 0.01, periodInSec: 60 });
    expect((await call('GET', '/v2/alerts/busy/notes?identifierType=alias')).status).toBe(200);
    const throttled = await call('GET', '/v2/alerts/busy/notes?identifierType=alias');
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('x-ratelimit-state')).toBe('THROTTLED');
    expect(og.state.calls.map((c) => `${c.route}:${c.status}`)).toEqual(['create:202', 'listNotes:500', 'listNotes:200', 'listNotes:429']);
  });

  it('can do a request\'s work and answer a server error instead (afterWork), in-process and over HTTP', async () => {
    await call('POST', '/v2/alerts', { message: 'm', alias: 'half' });
    og.state.failNext('notes', { status: 500, afterWork: true });
    expect((await call('POST', '/v2/alerts/half/notes?identifierType=alias', { note: 'added anyway' })).status).toBe(500);
    const set = await fetch(`${og.url}/_stand-in/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ route: 'notes', status: 504, afterWork: true, body: { message: 'Gateway Timeout' } }),
    });
    expect(set.status).toBe(204);
    expect((await call('POST', '/v2/alerts/half/notes?identifierType=alias', { note: 'this one too' })).status).toBe(504);
    expect(og.state.alerts[0]!.notes.map((n) => n.note)).toEqual(['added anyway', 'this one too']);
    expect(og.state.calls.filter((c) => c.route === 'notes').map((c) => [c.status, c.answerLost, c.fault])).toEqual([
      [500, true, true],
      [504, true, true],
    ]);
  });

  it('can lose a request\'s answer after doing its work, or drop the request before reading it', async () => {
    og.state.loseAnswerNext('create');
    await expect(call('POST', '/v2/alerts', { message: 'taken', alias: 'lost-answer' })).rejects.toThrow();
    expect(og.state.alerts.map((a) => a.alias)).toEqual(['lost-answer']);
    og.state.dropNext('create');
    await expect(call('POST', '/v2/alerts', { message: 'never read', alias: 'dropped' })).rejects.toThrow();
    expect(og.state.alerts.map((a) => a.alias)).toEqual(['lost-answer']);
    expect(og.state.calls.map((c) => [c.route, c.status, c.answerLost ?? c.fault ?? false])).toEqual([
      ['create', 202, true],
      ['create', 0, true],
    ]);
    expect((await call('POST', '/v2/alerts', { message: 'answered', alias: 'answered' })).status).toBe(202);
  });
});
