import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OPSGENIE_STAND_IN_KEY, startOpsgenieStandIn, type OpsgenieStandIn } from './server';

/** What a receiver of the pager's outgoing webhook got. */
interface Received {
  authorization: string | undefined;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

let og: OpsgenieStandIn;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];

const api = async (path: string, body: unknown) => {
  const res = await fetch(`${og.url}${path}`, {
    method: 'POST',
    headers: { authorization: `GenieKey ${OPSGENIE_STAND_IN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(202);
};
const settled = () => og.webhook.settled();

beforeEach(async () => {
  received.length = 0;
  receiver = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      received.push({ authorization: req.headers.authorization, body: JSON.parse(text) });
      res.writeHead(202).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/opsgenie`;
  og = await startOpsgenieStandIn();
});
afterEach(async () => {
  await og.close();
  await new Promise((r) => receiver.close(r));
});

describe('Opsgenie stand-in outgoing webhook', () => {
  it('posts Acknowledge and Close in the docs\' alert action data shape, with the configured Authorization, once per change', async () => {
    og.webhook.configure({ url: receiverUrl, authorization: 'Bearer pager-token' });
    await api('/v2/alerts', { message: 'Disk full on db-1', alias: 'alertmanager:abc', tags: ['db'] });
    await api('/v2/alerts/alertmanager%3Aabc/acknowledge?identifierType=alias', { user: 'pager-person', source: 'phone' });
    await api('/v2/alerts/alertmanager%3Aabc/acknowledge?identifierType=alias', { user: 'pager-person' }); // already acknowledged
    await api('/v2/alerts/alertmanager%3Aabc/close?identifierType=alias', {});
    await settled();

    const alert = og.state.alerts[0]!;
    expect(received.map((r) => [r.authorization, r.body.action, r.body.alert.username])).toEqual([
      ['Bearer pager-token', 'Acknowledge', 'pager-person'],
      ['Bearer pager-token', 'Close', 'System'],
    ]);
    const ack = received[0]!.body;
    // The keys of https://docs.opsgenie.com/docs/marid-alert-action-data's Acknowledge sample.
    expect(Object.keys(ack).sort()).toEqual(['action', 'alert', 'integrationId', 'integrationName', 'source']);
    expect(Object.keys(ack.alert).sort()).toEqual(['alertId', 'alias', 'createdAt', 'entity', 'message', 'source', 'tags', 'tinyId', 'updatedAt', 'userId', 'username']);
    expect(ack).toMatchObject({
      source: { name: 'phone', type: 'API' },
      alert: { alertId: alert.id, alias: 'alertmanager:abc', tinyId: alert.tinyId, message: 'Disk full on db-1', tags: ['db'], createdAt: Date.parse(alert.createdAt) },
    });
    expect(og.webhook.deliveries.map((d) => [d.action, d.alias, d.status])).toEqual([
      ['Acknowledge', 'alertmanager:abc', 202],
      ['Close', 'alertmanager:abc', 202],
    ]);
  });

  it('unacknowledges an acknowledged alert (POST /v2/alerts/:id/unacknowledge) and posts UnAcknowledge; of an alert nobody acknowledged, nothing', async () => {
    og.webhook.configure({ url: receiverUrl });
    await api('/v2/alerts', { message: 'Disk full on db-1', alias: 'alertmanager:unack' });
    await api('/v2/alerts/alertmanager%3Aunack/unacknowledge?identifierType=alias', { user: 'night-owl' }); // not acknowledged
    await api('/v2/alerts/alertmanager%3Aunack/acknowledge?identifierType=alias', { user: 'pager-person' });
    await api('/v2/alerts/alertmanager%3Aunack/unacknowledge?identifierType=alias', { user: 'night-owl', source: 'phone' });
    await settled();

    expect(received.map((r) => [r.body.action, r.body.alert.alias, r.body.alert.username])).toEqual([
      ['Acknowledge', 'alertmanager:unack', 'pager-person'],
      ['UnAcknowledge', 'alertmanager:unack', 'night-owl'],
    ]);
    expect(og.state.alerts[0]).toMatchObject({ acknowledged: false, status: 'open' });
    expect(og.state.alerts[0]!.acknowledgedBy).toBeUndefined();
  });

  it('is off until configured (also through PUT /_stand-in/webhook), and off again after DELETE', async () => {
    await api('/v2/alerts', { message: 'one', alias: 'one' });
    await api('/v2/alerts/one/acknowledge?identifierType=alias', {});
    await settled();
    expect(received).toEqual([]);

    const put = await fetch(`${og.url}/_stand-in/webhook`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiverUrl, authorization: 'Bearer t' }),
    });
    expect(put.status).toBe(204);
    await api('/v2/alerts/one/close?identifierType=alias', { user: 'alice' });
    await settled();
    expect(received.map((r) => [r.authorization, r.body.action, r.body.alert.alias])).toEqual([['Bearer t', 'Close', 'one']]);

    expect((await fetch(`${og.url}/_stand-in/webhook`, { method: 'DELETE' })).status).toBe(204);
    await api('/v2/alerts', { message: 'two', alias: 'two' });
    await api('/v2/alerts/two/close?identifierType=alias', {});
    await settled();
    expect(received).toHaveLength(1);
  });
});
