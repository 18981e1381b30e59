/**
 * The Slack work's events (slack.received.v1 inputs, thread replies and on-call answers) have no rule of their
 * own in the projection: they are kept by the fields every alertbus event uses, and so join the incident's story.
 */
import { TOPICS, deriveId, makeEnvelope, type AnyEnvelope } from '@alertbus/schemas';
import { ALIAS, INCIDENT_ID, RULE, acknowledged, opened } from './testdata/events';
import { given } from './testdata/given';

const at = '2025-03-01T10:03:00.000Z';
const CLICK = 'slack-click-1';

const click = makeEnvelope({
  id: CLICK,
  type: 'SlackActionReceived',
  alias: ALIAS,
  occurredAt: at,
  recordedAt: at,
  source: 'ingest/slack',
  data: {
    actionId: 'alertbus_ack',
    actionType: 'button',
    value: JSON.stringify({ alias: ALIAS, incidentId: INCIDENT_ID }),
    incidentId: INCIDENT_ID,
    user: { id: 'U1', name: 'alice' },
    team: 'T1',
    channel: 'C0123ALERTS',
    messageTs: '1740823200.000100',
    raw: {},
  },
});

const ack = { ...acknowledged(3, 'alice'), data: { ...acknowledged(3, 'alice').data, inputId: CLICK } } as AnyEnvelope;

const askOnCall = makeEnvelope({
  id: deriveId(CLICK, 'ReplyWithOnCall', 0),
  type: 'ReplyWithOnCall',
  alias: ALIAS,
  occurredAt: at,
  recordedAt: at,
  source: 'router',
  causationId: CLICK,
  data: {
    incidentId: INCIDENT_ID,
    rule: RULE,
    channel: 'C0123ALERTS',
    threadTs: '1740823200.000100',
    schedule: 'sre-primary',
    acknowledgement: 'Looking for the on-call…',
  },
});

const answered = makeEnvelope({
  id: deriveId(askOnCall.id, 'delivery'),
  type: 'OnCallReplyPosted',
  alias: ALIAS,
  occurredAt: '2025-03-01T10:03:02.000Z',
  recordedAt: '2025-03-01T10:03:02.000Z',
  source: 'slack-sink',
  causationId: askOnCall.id,
  data: {
    commandId: askOnCall.id,
    commandType: 'ReplyWithOnCall',
    incidentId: INCIDENT_ID,
    dryRun: false,
    attempts: 1,
    channel: 'C0123ALERTS',
    ts: '1740823382.000300',
    threadTs: '1740823200.000100',
    acknowledgementTs: '1740823381.000200',
    schedule: 'sre-primary',
    outcome: 'mentioned',
    emails: ['bob@example.com'],
    slackUserIds: ['U2'],
    unmatchedEmails: [],
    cached: false,
  },
});

describe('Slack events', () => {
  it('a button click, the acknowledgement it caused, the on-call question and its answer are one story', () => {
    const { store } = given(opened(), click, ack, askOnCall, answered);

    expect(store.timelineOf(INCIDENT_ID).map((r) => [r.type, r.stage, r.topic])).toEqual([
      ['IncidentOpened', 'decided', TOPICS.incidents],
      ['SlackActionReceived', 'received', TOPICS.slackReceived],
      ['IncidentAcknowledged', 'decided', TOPICS.incidents],
      ['ReplyWithOnCall', 'command', TOPICS.slackCommands],
      ['OnCallReplyPosted', 'delivered', TOPICS.deliveries],
    ]);
    expect(store.incident(INCIDENT_ID)).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'alice' });
    expect(store.timelineOf(INCIDENT_ID)[3]).toMatchObject({ rule: RULE });
  });

  it('who was told: the on-call answer is a delivery row of the incident', () => {
    const { store } = given(opened(), askOnCall, answered);

    expect(store.deliveriesOf(INCIDENT_ID)).toEqual([
      expect.objectContaining({
        type: 'OnCallReplyPosted',
        commandType: 'ReplyWithOnCall',
        target: 'slack',
        ok: true,
        slackChannel: 'C0123ALERTS',
        slackTs: '1740823382.000300',
        slackThreadTs: '1740823200.000100',
      }),
    ]);
  });

  it('a redelivered Slack input is applied once', () => {
    const world = given(click);

    world.when(click);
    const again = world.redeliverFrom(TOPICS.slackReceived, 0);

    expect(again).toMatchObject({ alreadyApplied: 2, nextOffset: null });
    expect(world.store.timeline.size).toBe(1);
  });
});
