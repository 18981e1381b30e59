import { readFileSync } from 'node:fs';
import path from 'node:path';
import { deriveId, makeEnvelope, schemaAjv, validateEnvelope, AliasState, SlackKeyState, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import { messageLinks, messageNotifications } from '@alertbus/stand-ins';
import { builtinRules, compileRules } from '../rules/compile';
import type { CompiledRules } from '../rules/types';
import { alert, firing, HOUR, MINUTE, resolved } from '../test-support/alerts';
import { specFor } from '@alertbus/spec';
import { decide, evolve, initialState, isIncidentEvent, type AlertDecision, type AlertState, type DeciderState } from '../decider';
import { incidentIdOf } from './incident-id';

const builtin = builtinRules({ defaultChannel: '#alerts' });
const basicFile = path.resolve(__dirname, '../../testdata/rules.basic.yaml');
const basic = (() => {
  const r = compileRules(readFileSync(basicFile), basicFile, { defaultChannel: '#alerts' });
  if (!r.ok) throw new Error(r.message);
  return r.rules;
})();
const validState = schemaAjv.compile(AliasState);

type Expected = [type: AnyEnvelope['type'], data?: Record<string, unknown>];

/** Runs inputs through the decider from the initial state and returns every event (the alias's history). */
function eventsOf(inputs: Envelope<'AlertReceived'>[], rules: CompiledRules = builtin): AnyEnvelope[] {
  let state: AlertState = initialState();
  const out: AnyEnvelope[] = [];
  for (const input of inputs) {
    const d: AlertDecision = decide(input, state, rules);
    out.push(...d.events);
    state = d.state;
  }
  return out;
}

/** The decider with a rules file, checked the same way in every case. */
const routerSpec = (rules: CompiledRules) =>
  specFor<Envelope<'AlertReceived'>, DeciderState, AnyEnvelope, AlertDecision, Expected[]>(
    { decide: (input, state) => decide(input, state, rules), evolve, initialState },
    {
      check: (decision, expected) => {
        expect(decision.events.map((e) => e.type)).toEqual(expected.map(([t]) => t));
        expected.forEach(([, data], i) => {
          if (data) expect(decision.events[i]!.data).toMatchObject(data);
        });
      },
      always: (decision, { input, given }) => {
        for (const e of decision.events) {
          const v = validateEnvelope(e);
          if (!v.ok) throw new Error(`${e.type} is not valid: ${v.error}`);
          expect(e).toMatchObject({ alias: input.alias, source: 'router', causationId: input.id, correlationId: input.correlationId });
          expect(e.recordedAt).toBe(input.recordedAt);
          expect(e.occurredAt).toBe(input.occurredAt);
        }
        decision.events.forEach((e, i) => expect(e.id).toBe(deriveId(input.id, e.type, i)));
        if (decision.state !== undefined && !validState(decision.state)) {
          throw new Error(`state is not valid: ${JSON.stringify(validState.errors)}`);
        }
        // The decided state is exactly the fold of the incident events: state can be rebuilt from incidents.v1.
        expect(decision.state).toEqual([...given, ...decision.events.filter(isIncidentEvent)].reduce(evolve, initialState()));
      },
    },
  );

/** given(events) when(input, rules) then(events): the state is folded from the given events with evolve. */
function given(...history: AnyEnvelope[]) {
  return { when: (input: Envelope<'AlertReceived'>, rules: CompiledRules = builtin) => routerSpec(rules).given(...history).when(input) };
}

const A = 'alertmanager:aaaa';
/** Incident ids derive from the alias, the occurrence and the input that opened it. */
const incident1 = incidentIdOf(A, 1, firing(A).id);
const incident2 = incidentIdOf(A, 2, firing(A, { at: 2 * MINUTE }).id);
const builtinRef = { path: 'defaults', rulesVersion: builtin.version };

describe('router decider: lifecycle', () => {
  test('first firing opens an incident, posts the root message and pages', () => {
    const d = given()
      .when(firing(A))
      .then([
        ['IncidentOpened', { reason: 'first-notification', occurrence: 1, count: 1, incidentId: incident1, status: 'open', slack: { channel: '#alerts' }, pager: { priority: 'P1' }, rule: builtinRef }],
        ['PostSlackMessage', { purpose: 'root', channel: '#alerts', incidentId: incident1, rule: builtinRef }],
        ['CreatePagerAlert', { priority: 'P1', incidentId: incident1, message: `Disk almost full on ${A}`, source: 'alertbus/alertmanager', rule: builtinRef }],
      ]);
    expect(d.state).toMatchObject({ alias: A, status: 'open', occurrence: 1, count: 1, slackChannel: '#alerts', paged: true, priority: 'P1' });
    const page = d.events[2]!.data as { description: string; details: Record<string, string> };
    expect(page.description).toContain('- team=db');
    expect(page.description).toContain('http://prometheus:9090/graph?g0.expr=disk');
    expect(page.details).toMatchObject({ team: 'db', instance: 'db-1:9100', alertbus_incident: incident1 });
  });

  test('firing again within the repeat interval is a duplicate: counted, not notified', () => {
    given(...eventsOf([firing(A)]))
      .when(firing(A, { at: 10 * MINUTE }))
      .then([['IncidentRepeated', { reason: 'duplicate', notified: false, count: 2, incidentId: incident1 }]]);
  });

  test('firing after the repeat interval re-notifies in the thread; no pager note unless the rule asks', () => {
    const history = eventsOf([firing(A), firing(A, { at: HOUR })]);
    given(...history)
      .when(firing(A, { at: 4 * HOUR }))
      .then([
        ['IncidentRepeated', { reason: 'repeat-interval-elapsed', notified: true, count: 3 }],
        ['PostSlackMessage', { purpose: 'reply', channel: '#alerts', incidentId: incident1 }],
      ]);
  });

  test('the repeat interval counts from the last notification, not the last firing', () => {
    const history = eventsOf([firing(A), firing(A, { at: 4 * HOUR }), firing(A, { at: 5 * HOUR })]);
    given(...history).when(firing(A, { at: 7 * HOUR })).then([['IncidentRepeated', { reason: 'duplicate', count: 4 }]]);
    given(...history)
      .when(firing(A, { at: 8 * HOUR }))
      .then([['IncidentRepeated', { reason: 'repeat-interval-elapsed' }], ['PostSlackMessage', { purpose: 'reply' }]]);
  });

  test('a rule with note_on_repeat adds a pager note when re-notifying, after its own repeat interval', () => {
    const history = eventsOf([firing(A)], basic);
    given(...history)
      .when(firing(A, { at: HOUR }), basic)
      .then([
        ['IncidentRepeated', { reason: 'repeat-interval-elapsed', rule: { path: 'rules[0]', name: 'databases', rulesVersion: basic.version } }],
        ['PostSlackMessage', { purpose: 'reply', channel: '#db-alerts' }],
        ['AddPagerNote', { incidentId: incident1 }],
      ]);
  });

  test('resolved on an open incident resolves it: thread reply, root updated, pager closed', () => {
    const d = given(...eventsOf([firing(A), firing(A, { at: MINUTE })]))
      .when(resolved(A, { at: 2 * MINUTE }))
      .then([
        ['IncidentResolved', { reason: 'resolved', status: 'resolved', count: 2, incidentId: incident1, resolvedAt: '2025-03-01T10:02:00.000Z' }],
        ['PostSlackMessage', { purpose: 'reply', channel: '#alerts' }],
        ['UpdateSlackMessage', { incidentId: incident1 }],
        ['ClosePagerAlert', { incidentId: incident1 }],
      ]);
    expect((d.events[1]!.data as { text: string }).text).toMatch(/^Resolved/);
    const update = d.events[2]!.data as { text: string; blocks: Array<{ type: string; text?: { text: string } }> };
    expect(update.text).toMatch(/^\[RESOLVED\]/);
    expect(update.blocks[0]!.text!.text).toContain('✅');
    expect(d.state).toMatchObject({ status: 'resolved', resolvedAt: '2025-03-01T10:02:00.000Z' });
  });

  test('firing after resolve reopens as a new occurrence with a new incident id', () => {
    given(...eventsOf([firing(A), resolved(A, { at: MINUTE })]))
      .when(firing(A, { at: 2 * MINUTE }))
      .then([
        ['IncidentReopened', { reason: 'reopened', occurrence: 2, count: 1, incidentId: incident2, previousIncidentId: incident1 }],
        ['PostSlackMessage', { purpose: 'root', incidentId: incident2 }],
        ['CreatePagerAlert', { incidentId: incident2 }],
      ]);
  });

  test('an acknowledged incident keeps its status on repeats and still resolves', () => {
    const opened = eventsOf([firing(A)]);
    const ack = makeEnvelope({
      id: deriveId('ack-input', A),
      type: 'IncidentAcknowledged',
      alias: A,
      occurredAt: '2025-03-01T10:05:00.000Z',
      recordedAt: '2025-03-01T10:05:00.000Z',
      source: 'router',
      data: {
        incidentId: incident1,
        occurrence: 1,
        title: `Disk almost full on ${A}`,
        severity: 'critical',
        source: 'alertmanager',
        status: 'acknowledged',
        count: 1,
        reason: 'acknowledged',
        rule: builtinRef,
        inputId: deriveId('ack-input', A),
        labels: {},
        acknowledgedAt: '2025-03-01T10:05:00.000Z',
        by: 'U123',
      },
    }) as AnyEnvelope;
    expect(validateEnvelope(ack).ok).toBe(true);
    given(...opened, ack)
      .when(firing(A, { at: 10 * MINUTE }))
      .then([['IncidentRepeated', { status: 'acknowledged', reason: 'duplicate', count: 2 }]]);
    given(...opened, ack)
      .when(resolved(A, { at: 20 * MINUTE }))
      .then([['IncidentResolved', { status: 'resolved' }], ['PostSlackMessage'], ['UpdateSlackMessage'], ['ClosePagerAlert']]);
  });

  describe('a late resolve of an earlier occurrence, told apart by the sender\'s startsAt and endsAt', () => {
    const S1 = '2025-03-01T09:58:00.123456789Z';
    const S2 = '2025-03-01T10:19:00Z';
    const first = firing(A, { startsAt: S1 });
    const over = resolved(A, { at: 5 * MINUTE, startsAt: S1, endsAt: '2025-03-01T10:04:00Z' });
    const again = firing(A, { at: 19 * MINUTE, startsAt: S2 });

    test('the opening startsAt is kept on the incident and the state', () => {
      const d = given().when(first).then([['IncidentOpened', { startsAt: S1 }], ['PostSlackMessage'], ['CreatePagerAlert']]);
      expect(d.state).toMatchObject({ startsAt: S1 });
      given(...eventsOf([first, over])).when(again).then([['IncidentReopened', { occurrence: 2, startsAt: S2 }], ['PostSlackMessage'], ['CreatePagerAlert']]);
    });

    test('a copy of the first occurrence\'s resolve, delivered after the alert fired again, does not close the one firing now', () => {
      given(...eventsOf([first, over, again]))
        .when(resolved(A, { at: 21 * MINUTE, n: 1, startsAt: S1, endsAt: '2025-03-01T10:04:00Z' }))
        .then([['EventSuppressed', { reason: 'other-occurrence', incidentId: incidentIdOf(A, 2, again.id) }]]);
      // Its own resolve closes it.
      given(...eventsOf([first, over, again]))
        .when(resolved(A, { at: 30 * MINUTE, startsAt: S2, endsAt: '2025-03-01T10:29:00Z' }))
        .then([['IncidentResolved'], ['PostSlackMessage'], ['UpdateSlackMessage'], ['ClosePagerAlert']]);
    });

    test('a resolve with an earlier startsAt than the firing that opened (Alertmanager keeps the earliest of a Prometheus pair\'s copies) still closes it', () => {
      given(...eventsOf([firing(A, { startsAt: '2025-03-01T10:00:05Z' })]))
        .when(resolved(A, { at: 30 * MINUTE, startsAt: '2025-03-01T10:00:02Z', endsAt: '2025-03-01T10:29:00Z' }))
        .then([['IncidentResolved'], ['PostSlackMessage'], ['UpdateSlackMessage'], ['ClosePagerAlert']]);
    });

    test('a firing after a resolve opens again even with the old startsAt: Alertmanager sends that when Prometheus comes back from an outage with the alert still firing', () => {
      given(...eventsOf([first, over]))
        .when(firing(A, { at: 12 * MINUTE, startsAt: S1 }))
        .then([['IncidentReopened', { occurrence: 2 }], ['PostSlackMessage'], ['CreatePagerAlert']]);
    });

    test('without a startsAt and endsAt, as before: a resolve closes the open incident', () => {
      given(...eventsOf([first]))
        .when(resolved(A, { at: MINUTE }))
        .then([['IncidentResolved'], ['PostSlackMessage'], ['UpdateSlackMessage'], ['ClosePagerAlert']]);
      given(...eventsOf([firing(A)]))
        .when(resolved(A, { at: MINUTE, startsAt: S1, endsAt: '2025-03-01T10:04:00Z' }))
        .then([['IncidentResolved'], ['PostSlackMessage'], ['UpdateSlackMessage'], ['ClosePagerAlert']]);
    });
  });

  describe("a late firing of an occurrence its sender already resolved (the other Alertmanager of a pair, a retried webhook)", () => {
    const S1 = '2025-03-01T09:58:00Z';
    const E1 = '2025-03-01T10:04:00Z';
    /** E1 as the state keeps it: toISOString's form, which a packed state holds as one number. */
    const E1ms = '2025-03-01T10:04:00.000Z';
    const S2 = '2025-03-01T10:19:00Z';
    const first = firing(A, { startsAt: S1 });
    const over = resolved(A, { at: 5 * MINUTE, startsAt: S1, endsAt: E1 });
    const noCommands = (d: AlertDecision) => expect(d.events.map((e) => e.type)).toEqual(['EventSuppressed']);

    test('a copy of its firing delivered after its resolve opens nothing: no second thread, no second page', () => {
      const d = given(...eventsOf([first, over]))
        .when(firing(A, { at: 5 * MINUTE + 2_000, startsAt: S1 }))
        .then([['EventSuppressed', { reason: 'occurrence-already-resolved', incidentId: incident1, inputType: 'AlertReceived' }]]);
      expect(d.state).toMatchObject({ status: 'resolved', incidentId: incident1, endsAt: E1ms });
    });

    test("a copy with a later startsAt than the one that opened, still before the end (the other Prometheus of a pair's), opens nothing", () => {
      given(...eventsOf([first, over]))
        .when(firing(A, { at: 5 * MINUTE + 30_000, startsAt: '2025-03-01T09:59:30Z' }))
        .then([['EventSuppressed', { reason: 'occurrence-already-resolved', incidentId: incident1 }]]);
      // The end itself still belongs to it.
      given(...eventsOf([first, over]))
        .when(firing(A, { at: 6 * MINUTE, startsAt: E1 }))
        .then([['EventSuppressed', { reason: 'occurrence-already-resolved' }]]);
    });

    test('a new occurrence, with a startsAt after the end, opens again at once', () => {
      given(...eventsOf([first, over]))
        .when(firing(A, { at: 5 * MINUTE + 2_000, startsAt: '2025-03-01T10:04:00.001Z' }))
        .then([['IncidentReopened', { occurrence: 2 }], ['PostSlackMessage'], ['CreatePagerAlert']]);
    });

    test('past the late-copy window the old startsAt opens again (Prometheus back from an outage, the alert still firing)', () => {
      given(...eventsOf([first, over]))
        .when(firing(A, { at: 10 * MINUTE + 1, startsAt: S1 }))
        .then([['IncidentReopened', { occurrence: 2 }], ['PostSlackMessage'], ['CreatePagerAlert']]);
      given(...eventsOf([first, over]))
        .when(firing(A, { at: 10 * MINUTE, startsAt: S1 }))
        .then([['EventSuppressed', { reason: 'occurrence-already-resolved' }]]);
    });

    test('one a person resolved while it fired opens again on its next firing (the sender never said it was over)', () => {
      const click = deriveId('resolve-click', A);
      const byPerson = eventsOf([first]).concat(
        makeEnvelope({
          id: deriveId('resolved-by-person', A),
          type: 'IncidentResolved',
          alias: A,
          occurredAt: '2025-03-01T10:05:00.000Z',
          recordedAt: '2025-03-01T10:05:00.000Z',
          source: 'router',
          data: {
            incidentId: incident1, occurrence: 1, title: `Disk almost full on ${A}`, severity: 'critical', source: 'alertmanager', status: 'resolved',
            count: 1, reason: 'resolved', rule: builtinRef, inputId: click, labels: {}, resolvedAt: '2025-03-01T10:05:00.000Z', by: 'U123',
          },
        }) as AnyEnvelope,
      );
      given(...byPerson)
        .when(firing(A, { at: 5 * MINUTE + 2_000, startsAt: S1 }))
        .then([['IncidentReopened', { occurrence: 2 }], ['PostSlackMessage'], ['CreatePagerAlert']]);
    });

    test('without the times, as before: a firing after a resolve opens again', () => {
      given(...eventsOf([first, over]))
        .when(firing(A, { at: 5 * MINUTE + 2_000 }))
        .then([['IncidentReopened', { occurrence: 2 }], ['PostSlackMessage'], ['CreatePagerAlert']]);
      given(...eventsOf([first, resolved(A, { at: 5 * MINUTE })]))
        .when(firing(A, { at: 5 * MINUTE + 2_000, startsAt: S1 }))
        .then([['IncidentReopened', { occurrence: 2 }], ['PostSlackMessage'], ['CreatePagerAlert']]);
    });

    test("its resolve keeps the sender's endsAt on IncidentResolved and the state; reopening clears it", () => {
      const d = given(...eventsOf([first])).when(over).then([['IncidentResolved', { endsAt: E1ms }], ['PostSlackMessage'], ['UpdateSlackMessage'], ['ClosePagerAlert']]);
      expect(d.state).toMatchObject({ status: 'resolved', endsAt: E1ms });
      const again = given(...eventsOf([first, over])).when(firing(A, { at: 19 * MINUTE, startsAt: S2 })).then([['IncidentReopened'], ['PostSlackMessage'], ['CreatePagerAlert']]);
      expect(again.state).not.toHaveProperty('endsAt');
    });

    describe('its resolve delivered before its firing', () => {
      const validKeyState = schemaAjv.compile(SlackKeyState);
      /** Decides the inputs in order from no state; the last decision. */
      const after = (inputs: Envelope<'AlertReceived'>[], ctx?: { retentionMs: number }): AlertDecision => {
        let state: AlertState = initialState();
        let d: AlertDecision | undefined;
        for (const input of inputs) {
          d = decide(input, state, builtin, ctx);
          state = d.state;
        }
        return d!;
      };
      const early = resolved(A, { startsAt: S1, endsAt: E1 });

      test("the resolve is kept, with its sender's endsAt, under the alias", () => {
        const d = after([early]);
        expect(d.events.map((e) => [e.type, (e.data as { reason: string }).reason])).toEqual([['EventSuppressed', 'resolved-without-open-incident']]);
        expect(d.state).toEqual({ kind: 'alert-resolved', key: A, inputId: early.id, at: early.recordedAt, endsAt: E1ms });
        expect(validKeyState(d.state)).toBe(true);
      });

      test('its firing arriving afterwards opens nothing, and the resolve stays kept', () => {
        const d = after([early, firing(A, { at: 2_000, startsAt: S1 })]);
        noCommands(d);
        expect(d.events[0]!.data).toMatchObject({ reason: 'occurrence-already-resolved', inputType: 'AlertReceived' });
        expect(d.events[0]!.data).not.toHaveProperty('incidentId');
        expect(d.state).toEqual(after([early]).state);
      });

      test('a firing with a later startsAt, or none, or past the window, opens as a first incident', () => {
        for (const later of [
          firing(A, { at: 2_000, startsAt: S2 }),
          firing(A, { at: 2_000 }),
          firing(A, { at: 5 * MINUTE + 1, startsAt: S1 }),
        ]) {
          const d = after([early, later]);
          expect(d.events.map((e) => e.type)).toEqual(['IncidentOpened', 'PostSlackMessage', 'CreatePagerAlert']);
          expect(d.state).toMatchObject({ status: 'open', occurrence: 1, count: 1 });
        }
      });

      test("a second copy of the resolve keeps the later end; a resolve without an endsAt keeps nothing, as before", () => {
        const d = after([early, resolved(A, { at: 1_000, startsAt: S1, endsAt: '2025-03-01T10:03:59Z' })]);
        expect(d.state).toMatchObject({ kind: 'alert-resolved', endsAt: E1ms, at: '2025-03-01T10:00:01.000Z' });
        expect(after([resolved(A)]).state).toBeUndefined();
      });

      test('it is forgotten after the state retention, like a resolved incident', () => {
        // A retention shorter than the late-copy window, so only the retention can let the firing open.
        const retentionMs = 2 * MINUTE;
        expect(after([early, firing(A, { at: 2 * MINUTE - 1, startsAt: S1 })], { retentionMs }).events[0]!.data).toMatchObject({ reason: 'occurrence-already-resolved' });
        expect(after([early, firing(A, { at: 2 * MINUTE, startsAt: S1 })], { retentionMs }).events[0]!.type).toBe('IncidentOpened');
      });

      test('a resolve a drop rule matches keeps nothing: its firing opens nothing anyway', () => {
        const info = { severity: 'info' as const, labels: { alertname: 'Chatty' }, startsAt: S1, endsAt: E1 };
        expect(decide(resolved(A, info), undefined, basic).state).toBeUndefined();
      });
    });
  });

  test('resolved with no incident is suppressed with its reason, and no commands', () => {
    const d = given().when(resolved(A)).then([['EventSuppressed', { reason: 'resolved-without-open-incident', inputType: 'AlertReceived' }]]);
    expect(d.state).toBeUndefined();
  });

  test('resolved on a resolved incident is suppressed as already resolved', () => {
    given(...eventsOf([firing(A), resolved(A, { at: MINUTE })]))
      .when(resolved(A, { at: 2 * MINUTE }))
      .then([['EventSuppressed', { reason: 'already-resolved', incidentId: incident1 }]]);
  });

  test('a drop rule suppresses firing alerts and remembers nothing', () => {
    const info = firing(A, { severity: 'info', labels: { alertname: 'Chatty' } });
    const d = given()
      .when(info, basic)
      .then([['EventSuppressed', { reason: 'dropped-by-rule', rule: { path: 'rules[1]', name: 'drop-info', rulesVersion: basic.version } }]]);
    expect(d.state).toBeUndefined();
  });

  test('a drop rule never strands an open incident: the resolve still closes it', () => {
    const opened = eventsOf([firing(A, { severity: 'warning', labels: {} })], basic);
    given(...opened)
      .when(resolved(A, { at: MINUTE, severity: 'info', labels: {} }), basic)
      .then([['IncidentResolved'], ['PostSlackMessage'], ['UpdateSlackMessage'], ['ClosePagerAlert']]);
  });

  test('without a pager rule no pager commands are emitted, on open or resolve', () => {
    const quiet = { source: 'grafana' as const, labels: { env: 'staging', team: 'web' }, severity: 'warning' };
    const history = eventsOf([firing(A, quiet)], basic);
    expect(history.map((e) => e.type)).toEqual(['IncidentOpened', 'PostSlackMessage']);
    expect(history[0]!.data).toMatchObject({ slack: { channel: '#staging' } });
    expect(history[0]!.data).not.toHaveProperty('pager');
    given(...history)
      .when(resolved(A, { ...quiet, at: MINUTE }), basic)
      .then([['IncidentResolved'], ['PostSlackMessage'], ['UpdateSlackMessage']]);
  });

  test('the pager message is cut to 130 code points without splitting characters', () => {
    const title = `${'🔥'.repeat(100)} ${'x'.repeat(100)}`;
    const d = decide(firing(A, { title }), initialState(), builtin);
    const message = (d.events.find((e) => e.type === 'CreatePagerAlert')!.data as { message: string }).message;
    expect(Array.from(message)).toHaveLength(130);
    expect(message.endsWith('…')).toBe(true);
    expect(message.startsWith('🔥'.repeat(100))).toBe(true);
  });

  test('priority follows severity with the built-in map', () => {
    const priorities = ['critical', 'page', 'error', 'high', 'warning', 'info', 'whatever'].map((severity) => {
      const d = decide(firing(A, { severity }), initialState(), builtin);
      return (d.events.find((e) => e.type === 'CreatePagerAlert')!.data as { priority: string }).priority;
    });
    expect(priorities).toEqual(['P1', 'P1', 'P2', 'P2', 'P3', 'P5', 'P3']);
  });
});

describe('router decider: label values are data', () => {
  test.each([
    ['a tags label naming a prototype member', { labels: { alertname: 'A', tags: 'db,constructor,__proto__' } }],
    ['a severity naming a prototype member', { labels: { alertname: 'A' }, severity: 'constructor' }],
    ['a severity __proto__', { labels: { alertname: 'A' }, severity: '__proto__' }],
  ] as const)('%s: routed by the defaults, every output valid (not dead-lettered)', (_name, init) => {
    const d = decide(firing(`am:proto-${_name.length}`, init as never), undefined, builtin);
    for (const e of d.events) expect(validateEnvelope(e)).toEqual({ ok: true, event: e });
    const post = d.events.find((e) => e.type === 'PostSlackMessage') as Envelope<'PostSlackMessage'>;
    expect(post.data.channel).toBe('#alerts');
    const page = d.events.find((e) => e.type === 'CreatePagerAlert') as Envelope<'CreatePagerAlert'> | undefined;
    if (page) expect(typeof page.data.priority).toBe('string');
  });
});

describe("router decider: a rule's mention", () => {
  const mentionFile = path.resolve(__dirname, '../../testdata/rules.mention.yaml');
  const rules = (() => {
    const r = compileRules(readFileSync(mentionFile), mentionFile, { defaultChannel: '#alerts' });
    if (!r.ok) throw new Error(r.message);
    return r.rules;
  })();
  const A = 'alertmanager:mention';
  const labels = { alertname: 'DiskFull', env: 'staging' };
  const slackTexts = (events: AnyEnvelope[]) =>
    events.filter((e) => e.type === 'PostSlackMessage' || e.type === 'UpdateSlackMessage').map((e) => [e.type, (e.data as { text: string }).text]);

  test('pings in the root post and in each re-notification; never in duplicates, the resolve reply or root updates', () => {
    const events = eventsOf(
      [
        firing(A, { labels }),
        firing(A, { labels, at: 10 * MINUTE, n: 1 }), // a duplicate: no message
        firing(A, { labels, at: 2 * HOUR, n: 2 }), // after the rule's 1h: re-notified
        resolved(A, { labels, at: 3 * HOUR }),
      ],
      rules,
    );
    expect(slackTexts(events)).toEqual([
      ['PostSlackMessage', '<!subteam^S0SRE123> <@U0LEAD01> [FIRING] Disk almost full on alertmanager:mention (critical, alertmanager)'],
      ['PostSlackMessage', '<!subteam^S0SRE123> <@U0LEAD01> Still firing: Disk almost full on alertmanager:mention (received 3 times since <!date^1740823200^{date_short_pretty} {time}|2025-03-01 10:00:00 UTC>)'],
      ['PostSlackMessage', 'Resolved: Disk almost full on alertmanager:mention (fired 3 times)'],
      ['UpdateSlackMessage', '[RESOLVED] Disk almost full on alertmanager:mention (critical, alertmanager)'],
    ]);
  });

  test('without a mention in the rules nothing pings, even for an alert written as Slack markup', () => {
    const title = 'disk full <!channel> <!here> <@U123> <https://evil.example|Acknowledge>';
    const events = eventsOf([firing(A, { title, labels: { host: '<!channel>' } })], builtin);
    const root = events.find((e) => e.type === 'PostSlackMessage')!.data as { text: string; blocks: unknown[] };
    expect(root.text).toBe('[FIRING] disk full &lt;!channel&gt; &lt;!here&gt; &lt;@U123&gt; &lt;https://evil.example|Acknowledge&gt; (critical, alertmanager)');
    expect(messageNotifications(root)).toEqual([]);
    expect(messageLinks(root).map((l) => l.url)).toEqual(['http://prometheus:9090/graph?g0.expr=disk']); // the alert's own link only
  });
});

describe('router decider: determinism', () => {
  const inputs = [
    firing(A),
    firing('grafana:bbbb', { source: 'grafana', severity: 'warning' }),
    firing(A, { at: MINUTE }),
    firing(A, { at: 5 * HOUR }),
    resolved('grafana:bbbb', { at: 2 * MINUTE }),
    resolved(A, { at: 6 * HOUR }),
    resolved(A, { at: 7 * HOUR }),
    firing(A, { at: 8 * HOUR }),
    alert('generic:cccc', 'resolved'),
  ];

  function run(): string {
    const states = new Map<string, AlertState>();
    const out: string[] = [];
    for (const input of inputs) {
      const d = decide(input, states.get(input.alias), builtin);
      states.set(input.alias, d.state);
      out.push(...d.events.map((e) => JSON.stringify(e)), JSON.stringify(d.state ?? null));
    }
    return out.join('\n');
  }

  test('the same inputs with the same rules give byte-identical outputs', () => {
    expect(run()).toBe(run());
  });

  test('decisions name the rule and the rules version', () => {
    const events = eventsOf(inputs.filter((i) => i.alias === A));
    for (const e of events) expect((e.data as { rule: unknown }).rule).toEqual(builtinRef);
  });
});

describe("router decider: Grafana's measured values", () => {
  const G = 'grafana:e6349a25f5ef0e9e';
  /** The values of a real Grafana 11 alert (shared/fixtures/grafana/zulip_firing_values_imageURL_v11.json). */
  const values = { A: 2473545728, B: 0, C: 1, minute: 9 };
  const shown = '*Values*\\nA = 2473545728 · B = 0 · C = 1 · minute = 9';

  test('reach the root post and the page, are kept with the incident, and stay in the root message when it resolves', () => {
    const d = given()
      .when(firing(G, { source: 'grafana', values }))
      .then([['IncidentOpened', { values }], ['PostSlackMessage', { purpose: 'root' }], ['CreatePagerAlert', {}]]);
    expect(JSON.stringify(d.events[1]!.data)).toContain(shown);
    expect((d.events[2]!.data as { description: string }).description).toContain('Source: grafana\nValues: A=2473545728, B=0, C=1, minute=9\n\nLabels:');
    expect(d.state).toMatchObject({ values });
    const r = given(...d.events)
      .when(resolved(G, { source: 'grafana', at: MINUTE }))
      .then([['IncidentResolved'], ['PostSlackMessage', { purpose: 'reply' }], ['UpdateSlackMessage'], ['ClosePagerAlert']]);
    expect(JSON.stringify(r.events[2]!.data)).toContain(shown);
  });

  test('an alert without values opens, posts and pages as before: no field, nothing shown', () => {
    const d = given().when(firing(G, { source: 'grafana' })).then([['IncidentOpened'], ['PostSlackMessage'], ['CreatePagerAlert']]);
    expect(d.events[0]!.data).not.toHaveProperty('values');
    expect(d.state).not.toHaveProperty('values');
    expect(JSON.stringify(d.events)).not.toContain('Values');
  });
});
