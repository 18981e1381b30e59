import { makeEnvelope, type AnyEnvelope } from '@alertbus/schemas';
import { inTeam } from './team';

const rule = { path: 'defaults', rulesVersion: 'v1' };
const env = (type: string, data: Record<string, unknown>) =>
  makeEnvelope({ id: `id-${type}`, type: type as 'PostSlackReply', alias: 'a', occurredAt: '2026-01-01T00:00:00.000Z', recordedAt: '2026-01-01T00:00:00.000Z', source: 'router', data: data as never }) as AnyEnvelope;

test('Slack commands decided from a workspace are answered in it; other outputs and explicit teams are left alone', () => {
  const reply = env('PostSlackReply', { rule, channel: 'C1', threadTs: '1.000001', text: 'hi' });
  const elsewhere = env('PostSlackReply', { rule, channel: 'C1', threadTs: '1.000001', text: 'hi', teamId: 'T0OTHER' });
  const pager = env('CreatePagerAlert', { incidentId: 'i', rule, message: 'm', priority: 'P3', tags: [], responders: [], details: {}, source: 's' });
  const out = inTeam([reply, elsewhere, pager], 'T0ONE');
  expect(out.map((e) => (e.data as { teamId?: string }).teamId)).toEqual(['T0ONE', 'T0OTHER', undefined]);
  expect(out[0]!.id).toBe(reply.id);
  expect(inTeam([reply], undefined)).toEqual([reply]);
});
