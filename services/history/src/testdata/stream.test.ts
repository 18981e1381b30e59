/** The test stream is what the services would write: every event valid, ids unique, the same on every call. */
import { validateEnvelope } from '@alertbus/schemas';
import { buildStream } from './stream';

describe('buildStream', () => {
  it('gives valid events with unique ids, deterministically', () => {
    const a = buildStream({ aliases: 30, seed: 's' });

    for (const e of a.events) expect(validateEnvelope(e)).toEqual({ ok: true, event: e });
    expect(new Set(a.events.map((e) => e.id)).size).toBe(a.events.length);
    expect(buildStream({ aliases: 30, seed: 's' })).toEqual(a);
    expect(buildStream({ aliases: 30, seed: 't' }).events[0]!.id).not.toBe(a.events[0]!.id);
  });

  it('covers every stage and the lifecycle', () => {
    const types = new Set(buildStream({ aliases: 30 }).events.map((e) => e.type));

    for (const t of [
      'AlertReceived', 'IncidentOpened', 'IncidentReopened', 'IncidentRepeated', 'IncidentAcknowledged', 'IncidentResolved',
      'EventSuppressed', 'PostSlackMessage', 'UpdateSlackMessage', 'CreatePagerAlert', 'ClosePagerAlert', 'AcknowledgePagerAlert',
      'SlackMessagePosted', 'SlackMessageUpdated', 'PagerAlertCreated', 'PagerAlertClosed', 'PagerAlertAcknowledged',
      'DeliveryFailed', 'SilenceCreated',
    ]) {
      expect(types).toContain(t);
    }
  });
});
