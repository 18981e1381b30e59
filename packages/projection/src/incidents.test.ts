/** What the incident lifecycle (incidents.v1) looks like in the history tables. */
import { TOPICS } from '@alertbus/schemas';
import { project } from './project';
import {
  ALIAS,
  INCIDENT_ID,
  RULE,
  acknowledged,
  opened,
  repeated,
  resolved,
  suppressed,
  updated,
} from './testdata/events';
import { given } from './testdata/given';

describe('incident events', () => {
  it('IncidentOpened inserts the incident as the router described it', () => {
    const { store } = given(opened());

    expect(store.incident(INCIDENT_ID)).toEqual({
      incidentId: INCIDENT_ID,
      alias: ALIAS,
      occurrence: 1,
      previousIncidentId: null,
      title: 'HighErrorRate api',
      severity: 'critical',
      source: 'alertmanager',
      status: 'open',
      labels: { alertname: 'HighErrorRate', service: 'api' },
      description: 'error rate above 5% for 10m',
      links: [{ title: 'runbook', url: 'https://runbooks.example/api' }],
      count: 1,
      openedAt: '2025-03-01T10:00:00.000Z',
      acknowledgedAt: null,
      acknowledgedBy: null,
      resolvedAt: null,
      resolvedBy: null,
      slackChannel: '#alerts',
      slackTargetChannel: '#alerts',
      slackRootTs: null,
      pagerAlertId: null,
      pagerPriority: 'P1',
      rule: RULE,
      lastEventAt: '2025-03-01T10:00:00.000Z',
      updatedAt: '2025-03-01T10:00:00.000Z',
    });
  });

  it('every applied event becomes a timeline row with where it was read, its reason and rule', () => {
    const { store } = given(opened());

    expect(store.timelineOf(INCIDENT_ID)).toEqual([
      expect.objectContaining({
        eventId: opened().id,
        type: 'IncidentOpened',
        topic: TOPICS.incidents,
        partition: 0,
        offset: '0',
        reason: 'first-notification',
        rule: RULE,
        source: 'router',
        data: opened().data,
      }),
    ]);
  });

  it('IncidentRepeated moves count and last event time, nothing else', () => {
    const { store } = given(opened(), repeated(2, 5), repeated(3, 9));

    expect(store.incident(INCIDENT_ID)).toMatchObject({
      count: 3,
      status: 'open',
      lastEventAt: '2025-03-01T10:09:00.000Z',
      updatedAt: '2025-03-01T10:09:00.000Z',
      openedAt: '2025-03-01T10:00:00.000Z',
      title: 'HighErrorRate api',
    });
    expect(store.timelineOf(INCIDENT_ID).map((r) => r.type)).toEqual([
      'IncidentOpened',
      'IncidentRepeated',
      'IncidentRepeated',
    ]);
  });

  it('IncidentUpdated takes the new title, severity and a description carried in changes', () => {
    const { store } = given(opened(), updated(4));

    expect(store.incident(INCIDENT_ID)).toMatchObject({
      title: 'HighErrorRate api (eu-west-1)',
      severity: 'warning',
      description: 'error rate above 2%',
      links: [{ title: 'runbook', url: 'https://runbooks.example/api' }],
    });
  });

  it('IncidentAcknowledged records who and when; IncidentResolved closes it', () => {
    const { store } = given(opened(), acknowledged(3, 'alice'), resolved(20));

    expect(store.incident(INCIDENT_ID)).toMatchObject({
      status: 'resolved',
      acknowledgedAt: '2025-03-01T10:03:00.000Z',
      acknowledgedBy: 'alice',
      resolvedAt: '2025-03-01T10:20:00.000Z',
      resolvedBy: null,
    });
  });

  it('IncidentReopened opens a new incident for the same alias and leaves the resolved one alone', () => {
    const nextId = 'incident-occurrence-2';
    const { store } = given(opened(), resolved(20), opened({ at: 30, incidentId: nextId, occurrence: 2, previous: INCIDENT_ID }));

    expect(store.incident(INCIDENT_ID)).toMatchObject({ status: 'resolved', occurrence: 1 });
    expect(store.incident(nextId)).toMatchObject({
      status: 'open',
      occurrence: 2,
      alias: ALIAS,
      previousIncidentId: INCIDENT_ID,
      openedAt: '2025-03-01T10:30:00.000Z',
    });
  });

  it('EventSuppressed is a timeline row of its incident, and changes nothing else', () => {
    const { store } = given(opened(), suppressed(6, INCIDENT_ID));

    expect(store.incident(INCIDENT_ID)).toMatchObject({ updatedAt: '2025-03-01T10:00:00.000Z', count: 1 });
    expect(store.timelineOf(INCIDENT_ID).at(-1)).toMatchObject({ type: 'EventSuppressed', reason: 'silenced' });
  });

  it('EventSuppressed without an incident is kept in the timeline under its alias only', () => {
    const { store } = given(suppressed(6));

    expect(store.incidents.size).toBe(0);
    expect([...store.timeline.values()]).toEqual([
      expect.objectContaining({ type: 'EventSuppressed', incidentId: null, alias: ALIAS }),
    ]);
  });

  it('events about an incident history never saw opened change no incident row', () => {
    const { store } = given(repeated(2, 5), resolved(9));

    expect(store.incidents.size).toBe(0);
    expect(store.timelineOf(INCIDENT_ID)).toHaveLength(2);
  });

  it('project() describes changes without touching anything', () => {
    const at = { topic: TOPICS.incidents, partition: 3, offset: '41' };

    expect(project(resolved(20, 4), at)?.changes).toEqual([
      {
        kind: 'update-incident',
        incidentId: INCIDENT_ID,
        set: {
          status: 'resolved',
          count: 4,
          lastEventAt: '2025-03-01T10:20:00.000Z',
          resolvedAt: '2025-03-01T10:20:00.000Z',
          resolvedBy: null,
        },
        at: '2025-03-01T10:20:00.000Z',
      },
    ]);
  });
});
