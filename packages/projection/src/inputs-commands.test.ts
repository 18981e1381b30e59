/** Inputs (alerts.received.v1) and commands (commands.*.v1) in the history tables: timeline rows tied to their incident. */
import { TOPICS, makeEnvelope, type AnyEnvelope } from '@alertbus/schemas';
import { project } from './project';
import { ALIAS, INCIDENT_ID, INPUT_ID, RULE, createPage, opened, postRoot, received, resolved, suppressed } from './testdata/events';
import { given } from './testdata/given';
import { interleavings } from './testdata/interleavings';

describe('received events', () => {
  it('an input is a timeline row of no incident until a decision names it', () => {
    const { store } = given(received());

    expect(store.incidents.size).toBe(0);
    expect([...store.timeline.values()]).toEqual([
      expect.objectContaining({
        eventId: INPUT_ID,
        type: 'AlertReceived',
        topic: TOPICS.alertsReceived,
        incidentId: null,
        inputId: null,
        reason: null,
        source: 'ingest/alertmanager',
      }),
    ]);
    expect(store.timelineOf(INCIDENT_ID)).toEqual([]);
  });

  it('the decision that names the input by inputId puts the input on the incident timeline, first', () => {
    const { store } = given(received(), opened());

    expect(store.timelineOf(INCIDENT_ID).map((r) => [r.type, r.incidentId])).toEqual([
      ['AlertReceived', INCIDENT_ID],
      ['IncidentOpened', INCIDENT_ID],
    ]);
    expect(store.timelineOf(INCIDENT_ID)[1]).toMatchObject({ inputId: INPUT_ID, reason: 'first-notification', rule: RULE });
  });

  it('the link holds in either arrival order (the topics are read independently)', () => {
    const inputs: AnyEnvelope[] = [received(), received('input-20', 20, 'resolved')];
    const decisions: AnyEnvelope[] = [opened(), { ...resolved(20), data: { ...resolved(20).data, inputId: 'input-20' } }];
    const timelines = interleavings(inputs, decisions).map((order) => given(...order).store.timelineOf(INCIDENT_ID));

    expect(timelines).toHaveLength(6);
    for (const t of timelines) expect(t).toEqual(timelines[0]);
    expect(timelines[0]!.map((r) => r.type)).toEqual(['AlertReceived', 'IncidentOpened', 'AlertReceived', 'IncidentResolved']);
  });

  it('an input suppressed before any incident existed stays on no incident timeline', () => {
    const { store } = given(received('input-6', 6), suppressed(6));

    expect(store.timelineOf(INCIDENT_ID)).toEqual([]);
    expect(store.timelineOfAlias(ALIAS).map((r) => [r.type, r.incidentId])).toEqual([
      ['AlertReceived', null],
      ['EventSuppressed', null],
    ]);
  });
});

describe('commands', () => {
  it('each command is a timeline row of its incident with the rule that ordered it', () => {
    const { store } = given(received(), opened(), postRoot(), createPage());

    // All four share the input's recordedAt: the stage orders them, then the topic (commands.pager < commands.slack).
    expect(store.timelineOf(INCIDENT_ID).map((r) => [r.type, r.stage, r.topic])).toEqual([
      ['AlertReceived', 'received', TOPICS.alertsReceived],
      ['IncidentOpened', 'decided', TOPICS.incidents],
      ['CreatePagerAlert', 'command', TOPICS.pagerCommands],
      ['PostSlackMessage', 'command', TOPICS.slackCommands],
    ]);
    expect(store.timelineOf(INCIDENT_ID)[3]).toMatchObject({ rule: RULE, reason: null, causationId: INPUT_ID });
  });

  it('commands change no incident row and make no delivery row', () => {
    const before = given(opened()).store;
    const after = given(opened(), postRoot(), createPage()).store;

    expect(after.incident(INCIDENT_ID)).toEqual(before.incident(INCIDENT_ID));
    expect(after.deliveries.size).toBe(0);
  });

  it('a redelivered command is applied once', () => {
    const world = given(opened(), postRoot(), createPage());

    const again = world.redeliverFrom(TOPICS.slackCommands, 0);
    world.when(postRoot()); // the same event written a second time (new offset)

    expect(again).toMatchObject({ alreadyApplied: 1, apply: [] });
    expect(world.store.timelineOf(INCIDENT_ID).filter((r) => r.type === 'PostSlackMessage')).toHaveLength(1);
  });
});

describe('event types history has no specific rule for', () => {
  it('keep their incidentId, inputId, reason and rule when the data has them', () => {
    // DeadLettered stands in for a type added later (e.g. on slack.received.v1): valid, but unknown to project().
    const unknown = makeEnvelope({
      id: 'future-1',
      type: 'DeadLettered',
      alias: ALIAS,
      occurredAt: '2025-03-01T10:00:00.000Z',
      recordedAt: '2025-03-01T10:00:00.000Z',
      source: 'somewhere',
      data: { incidentId: INCIDENT_ID, inputId: 'x', reason: 'something', rule: RULE, extra: 1 } as never,
    });

    expect(project(unknown, { topic: 't', partition: 0, offset: '0' })).toMatchObject({
      timeline: { incidentId: INCIDENT_ID, inputId: 'x', reason: 'something', rule: RULE, type: 'DeadLettered' },
      delivery: null,
      changes: [],
    });
  });

  it('and are kept without links when it has none', () => {
    const unknown = makeEnvelope({
      id: 'future-2',
      type: 'DeadLettered',
      alias: ALIAS,
      occurredAt: '2025-03-01T10:00:00.000Z',
      recordedAt: '2025-03-01T10:00:00.000Z',
      source: 'somewhere',
      data: { rule: { path: 1 } } as never,
    });

    expect(project(unknown, { topic: 't', partition: 0, offset: '0' }).timeline).toMatchObject({
      incidentId: null,
      inputId: null,
      reason: null,
      rule: null,
    });
  });
});
