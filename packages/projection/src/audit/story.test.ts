/** An alias's story from raw records, and the audit's verdict against the projection, without Kafka. */
import { makeEnvelope, TOPICS, topicOf, type AnyEnvelope } from '@alertbus/schemas';
import { INCIDENT_ID, INPUT_ID, opened, postRoot, received, slackPosted, suppressed } from '../testdata/events';
import { compareWithProjection, type ProjectedEvent } from './compare';
import { formatStory } from './format';
import type { AuditRecord } from './records';
import { buildStory } from './story';

let offset = 0;
const rec = (event: AnyEnvelope): AuditRecord => ({
  topic: topicOf(event.type),
  partition: 0,
  offset: String(offset++),
  key: event.alias,
  timestamp: event.recordedAt,
  event,
  error: null,
});
const invalid: AuditRecord = { topic: TOPICS.incidents, partition: 0, offset: '99', key: 'x', timestamp: '2025-03-01T10:00:00.000Z', event: null, error: 'envelope invalid: /: must have required property "id"' };

const projectedOf = (r: AuditRecord, incidentId: string | null): ProjectedEvent => ({
  event_id: r.event!.id,
  incident_id: incidentId,
  type: r.event!.type,
  topic: r.topic,
  partition: r.partition,
  offset: r.offset,
});

describe('buildStory', () => {
  it('ties each record to its incident (inputs through their decisions), in timeline order, invalid ones apart', () => {
    const records = [rec(slackPosted('root', 0)), rec(postRoot()), rec(opened()), rec(received()), rec(suppressed(6)), invalid];

    const story = buildStory('a', records);

    expect(story.incidents).toHaveLength(1);
    expect(story.incidents[0]!.entries.map((e) => e.event!.type)).toEqual(['AlertReceived', 'IncidentOpened', 'PostSlackMessage', 'SlackMessagePosted']);
    expect(story.incidents[0]!.entries[0]!.incidentId).toBe(INCIDENT_ID);
    expect(story.unlinked.map((e) => e.event!.type)).toEqual(['EventSuppressed']);
    expect(story.invalid).toEqual([invalid]);
  });

  it('marks a second record of the same event (a producer retry) as such', () => {
    const story = buildStory('a', [rec(opened()), rec(opened())]);

    expect(story.entries.map((e) => e.first)).toEqual([true, false]);
  });
});

describe('compareWithProjection', () => {
  const records = [rec(received()), rec(opened()), rec(postRoot())];
  const story = buildStory('a', records);
  const all = records.map((r) => projectedOf(r, INCIDENT_ID));
  const covered = new Map([[`${TOPICS.alertsReceived}\u00000`, '1000'], [`${TOPICS.incidents}\u00000`, '1000'], [`${TOPICS.slackCommands}\u00000`, '1000']]);

  it('agrees when the projection holds every event at the same position and incident', () => {
    expect(compareWithProjection(story, all, covered)).toMatchObject({ agrees: true, matched: 3, disagreements: [], notYetProjected: [] });
  });

  it('an event below the stored offset but not projected is missing; beyond it, merely not projected yet', () => {
    const behind = new Map(covered);
    behind.set(`${TOPICS.slackCommands}\u00000`, records[2]!.offset);

    expect(compareWithProjection(story, all.slice(0, 2), behind)).toMatchObject({ agrees: true, notYetProjected: [expect.anything()] });
    expect(compareWithProjection(story, all.slice(0, 2), covered)).toMatchObject({
      agrees: false,
      disagreements: [{ problem: 'missing', type: 'PostSlackMessage' }],
    });
  });

  it('an event projected elsewhere, under another incident, or not on the topics at all is reported', () => {
    const moved = { ...all[1]!, offset: '77' };
    const other = { ...all[2]!, incident_id: 'someone-else' };
    const extra: ProjectedEvent = { ...all[0]!, event_id: 'ghost' };

    const verdict = compareWithProjection(story, [all[0]!, moved, other, extra], covered);

    expect(verdict.agrees).toBe(false);
    expect(verdict.disagreements.map((d) => [d.problem, d.eventId])).toEqual([
      ['moved', opened().id],
      ['other-incident', postRoot().id],
      ['extra', 'ghost'],
    ]);
    expect(INPUT_ID).toBe(records[0]!.event!.id);
  });
});

describe('an incident opened when its silence ended', () => {
  // The router's tick is the input of the opening (its inputId), on router.ticks.v1, which the history projects too.
  const tick = makeEnvelope({
    id: INPUT_ID,
    type: 'SilenceEndedTick',
    alias: opened().alias,
    occurredAt: opened().recordedAt,
    recordedAt: opened().recordedAt,
    source: 'router/ticker',
    data: { silenceId: 'upgrade-eu' },
  });
  const records = [rec(tick), rec(opened()), rec(postRoot())];
  const story = buildStory('a', records);

  it('tells the tick as the opening\'s input, in words', () => {
    expect(records[0]!.topic).toBe(TOPICS.routerTicks);
    expect(story.incidents[0]!.entries.map((e) => e.event!.type)).toEqual(['SilenceEndedTick', 'IncidentOpened', 'PostSlackMessage']);
    expect(formatStory(story, null, 'no history API given')).toContain('silence upgrade-eu ended: the firing kept under it decided again');
  });

  it('agrees with a projection that holds the tick too, and finds one that lacks it below its offset', () => {
    const covered = new Map([[`${TOPICS.incidents}\u00000`, '1000'], [`${TOPICS.slackCommands}\u00000`, '1000'], [`${TOPICS.routerTicks}\u00000`, '1000']]);
    const projected = records.map((r) => projectedOf(r, INCIDENT_ID));
    expect(compareWithProjection(story, projected, covered)).toMatchObject({ agrees: true, matched: 3, disagreements: [], notYetProjected: [] });
    expect(compareWithProjection(story, projected.slice(1), covered)).toMatchObject({
      agrees: false,
      disagreements: [expect.objectContaining({ eventId: INPUT_ID, type: 'SilenceEndedTick', problem: 'missing' })],
    });
  });
});

describe('an incident opened when its inhibition ended', () => {
  const tick = makeEnvelope({
    id: INPUT_ID,
    type: 'InhibitionEndedTick',
    alias: opened().alias,
    occurredAt: opened().recordedAt,
    recordedAt: opened().recordedAt,
    source: 'router/ticker',
    data: { inhibitedBy: 'alertmanager:cluster-eu' },
  });
  const records = [rec(tick), rec(opened()), rec(postRoot())];
  const story = buildStory('a', records);

  it('tells the tick as the opening\'s input, in words, and agrees with a projection that holds it too', () => {
    expect(records[0]!.topic).toBe(TOPICS.routerTicks);
    expect(story.incidents[0]!.entries.map((e) => e.event!.type)).toEqual(['InhibitionEndedTick', 'IncidentOpened', 'PostSlackMessage']);
    expect(formatStory(story, null, 'no history API given')).toContain('alertmanager:cluster-eu no longer inhibits it: the firing kept while inhibited decided again');
    const covered = new Map([[`${TOPICS.incidents}\u00000`, '1000'], [`${TOPICS.slackCommands}\u00000`, '1000'], [`${TOPICS.routerTicks}\u00000`, '1000']]);
    const projected = records.map((r) => projectedOf(r, INCIDENT_ID));
    expect(compareWithProjection(story, projected, covered)).toMatchObject({ agrees: true, matched: 3, disagreements: [], notYetProjected: [] });
  });
});
