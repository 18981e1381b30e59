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
  unacknowledged,
  updated,
} from './testdata/events';
import { history } from './testdata/projection-spec';

describe('incident events', () => {
  it('IncidentOpened inserts the incident as the router described it', () => {
    history.given().when(opened()).then(({ store }) => {
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
        startedAt: null,
        acknowledgedAt: null,
        acknowledgedBy: null,
        acknowledgedByName: null,
        acknowledgedIn: null,
        resolvedAt: null,
        resolvedBy: null,
        resolvedByName: null,
        resolvedIn: null,
        endedAt: null,
        slackChannel: '#alerts',
        slackTargetChannel: '#alerts',
        slackRootTs: null,
        pagerAlertId: null,
        pagerPriority: 'P1',
        stormIncidentId: null,
        stormSlackTs: null,
        stormPagerAlertId: null,
        rule: RULE,
        lastEventAt: '2025-03-01T10:00:00.000Z',
        updatedAt: '2025-03-01T10:00:00.000Z',
      });
    });
  });

  it("an IncidentOpened of a Slack request takes the requester's thread: its channel and the thread's ts", () => {
    const { slack: _rootPost, pager: _page, ...alertData } = opened().data;
    const request = {
      ...opened(),
      data: {
        ...alertData,
        source: 'slack',
        severity: 'unknown',
        slackRequest: { team: 'T0ALERTBUS', channel: 'C0ALERTS', ts: '1740823260.000200', threadTs: '1740823200.000100', text: 'api down?' },
      },
    } as ReturnType<typeof opened>;
    history.given().when(request).then(({ store }) => {
      expect(store.incident(INCIDENT_ID)).toMatchObject({ slackChannel: 'C0ALERTS', slackTargetChannel: 'C0ALERTS', slackRootTs: '1740823200.000100' });
    });
  });

  it('every applied event becomes a timeline row with where it was read, its reason and rule', () => {
    history.given().when(opened()).then(({ store }) => {
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
  });

  it('IncidentRepeated moves count and last event time, nothing else', () => {
    history.given(opened(), repeated(2, 5)).when(repeated(3, 9)).then(({ store }) => {
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
  });

  it('an IncidentRepeated that paged the incident (its alert now routes to a pager) sets its priority', () => {
    const paging = repeated(2, 5);
    const late = { ...paging, data: { ...paging.data, notified: true, pager: { priority: 'P2' as const } } };
    history.given(opened()).when(late).then(({ store }) => {
      expect(store.incident(INCIDENT_ID)).toMatchObject({ count: 2, pagerPriority: 'P2' });
    });
  });

  it('IncidentUpdated takes the new title, severity and a description carried in changes', () => {
    history.given(opened()).when(updated(4)).then(({ store }) => {
      expect(store.incident(INCIDENT_ID)).toMatchObject({
        title: 'HighErrorRate api (eu-west-1)',
        severity: 'warning',
        description: 'error rate above 2%',
        links: [{ title: 'runbook', url: 'https://runbooks.example/api' }],
      });
    });
  });

  it('IncidentAcknowledged records who and when; IncidentResolved closes it', () => {
    history.given(opened(), acknowledged(3, 'alice')).when(resolved(20)).then(({ store }) => {
      expect(store.incident(INCIDENT_ID)).toMatchObject({
        status: 'resolved',
        acknowledgedAt: '2025-03-01T10:03:00.000Z',
        acknowledgedBy: 'alice',
        resolvedAt: '2025-03-01T10:20:00.000Z',
        resolvedBy: null,
      });
    });
  });

  it('who acted is kept by id and by name when the event names them; an unacknowledgement forgets both', () => {
    history.given(opened(), acknowledged(3, 'U012ABCDEF', 'Alice Example')).when(resolved(20, 1, { by: 'jane@example.com', byName: 'jane@example.com' })).then(({ store }) => {
      expect(store.incident(INCIDENT_ID)).toMatchObject({
        acknowledgedBy: 'U012ABCDEF',
        acknowledgedByName: 'Alice Example',
        resolvedBy: 'jane@example.com',
        resolvedByName: 'jane@example.com',
      });
    });
    // An event from before byName: the id only.
    history.given(opened(), acknowledged(3, 'U012ABCDEF', 'Alice Example')).when(acknowledged(4, 'U0BOB')).then(({ store }) => {
      expect(store.incident(INCIDENT_ID)).toMatchObject({ acknowledgedBy: 'U0BOB', acknowledgedByName: null });
    });
    history.given(opened(), acknowledged(3, 'U012ABCDEF', 'Alice Example')).when(unacknowledged(5)).then(({ store }) => {
      expect(store.incident(INCIDENT_ID)).toMatchObject({ acknowledgedBy: null, acknowledgedByName: null });
    });
  });

  it("the pager a person acted in is kept beside who (their id is then the pager's username); Slack's acts and an unacknowledgement leave none", () => {
    history.given(opened(), acknowledged(3, 'U0CEO1234', 'U0CEO1234', 'opsgenie')).when(resolved(20, 1, { by: 'jane', byName: 'jane', provider: 'jsm' })).then(({ store }) => {
      expect(store.incident(INCIDENT_ID)).toMatchObject({ acknowledgedBy: 'U0CEO1234', acknowledgedIn: 'opsgenie', resolvedBy: 'jane', resolvedIn: 'jsm' });
    });
    history.given(opened(), acknowledged(3, 'U0CEO1234', 'U0CEO1234', 'opsgenie')).when(acknowledged(4, 'U0BOB', 'bob')).then(({ store }) => {
      expect(store.incident(INCIDENT_ID)).toMatchObject({ acknowledgedBy: 'U0BOB', acknowledgedIn: null });
    });
    history.given(opened(), acknowledged(3, 'U0CEO1234', 'U0CEO1234', 'opsgenie')).when(unacknowledged(5)).then(({ store }) => {
      expect(store.incident(INCIDENT_ID)).toMatchObject({ acknowledgedBy: null, acknowledgedIn: null });
    });
  });

  it('IncidentReopened opens a new incident for the same alias and leaves the resolved one alone', () => {
    const nextId = 'incident-occurrence-2';
    history.given(opened(), resolved(20)).when(opened({ at: 30, incidentId: nextId, occurrence: 2, previous: INCIDENT_ID })).then(({ store }) => {
      expect(store.incident(INCIDENT_ID)).toMatchObject({ status: 'resolved', occurrence: 1 });
      expect(store.incident(nextId)).toMatchObject({
        status: 'open',
        occurrence: 2,
        alias: ALIAS,
        previousIncidentId: INCIDENT_ID,
        openedAt: '2025-03-01T10:30:00.000Z',
      });
    });
  });

  it('EventSuppressed is a timeline row of its incident, and changes nothing else', () => {
    history.given(opened()).when(suppressed(6, INCIDENT_ID)).then(({ store }) => {
      expect(store.incident(INCIDENT_ID)).toMatchObject({ updatedAt: '2025-03-01T10:00:00.000Z', count: 1 });
      expect(store.timelineOf(INCIDENT_ID).at(-1)).toMatchObject({ type: 'EventSuppressed', reason: 'silenced' });
    });
  });

  it('EventSuppressed without an incident is kept in the timeline under its alias only', () => {
    history.given().when(suppressed(6)).then(({ store }) => {
      expect(store.incidents.size).toBe(0);
      expect([...store.timeline.values()]).toEqual([
        expect.objectContaining({ type: 'EventSuppressed', incidentId: null, alias: ALIAS }),
      ]);
    });
  });

  it('events about an incident history never saw opened change no incident row', () => {
    history.given(repeated(2, 5)).when(resolved(9)).then(({ store }) => {
      expect(store.incidents.size).toBe(0);
      expect(store.timelineOf(INCIDENT_ID)).toHaveLength(2);
    });
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
          resolvedByName: null,
          resolvedIn: null,
        },
        at: '2025-03-01T10:20:00.000Z',
      },
    ]);
  });
});
