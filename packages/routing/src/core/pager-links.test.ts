import { PAGER_ALIAS_LINKS_MAX, validateEnvelope, type AliasState, type AnyEnvelope, type PagerActionReceived } from '@alertbus/schemas';
import { decide, type RouterInput } from '../decider';
import { compileRules } from '../rules/compile';
import { firing, resolved, T0 } from '../test-support/alerts';
import { buttonClick } from '../test-support/slack';
import { pagerAction as webhookAction } from '../test-support/pager';
import { isIncidentState, type RouterState } from '../state';
import { StateIndex } from './neighbours';

/** A rule that pages every incident of a team under one pager alias: one pager alert for the team's incidents. */
const rules = (() => {
  const c = compileRules(
    Buffer.from('defaults:\n  slack: { channel: "#alerts" }\n  pager: { priority: P2, alias: "team-{{ labels.team }}" }\n'),
    'templated.yaml',
    { defaultChannel: '#alerts' },
  );
  if (!c.ok) throw new Error(c.message);
  return c.rules;
})();

const A = 'alertmanager:aaaa';
const B = 'alertmanager:bbbb';
const PAGER = 'pager:team-db';
const PAGER_COMMANDS = ['CreatePagerAlert', 'AcknowledgePagerAlert', 'ClosePagerAlert', 'AddPagerNote', 'UpdatePagerPriority'];
/** The inputs the router writes to itself, decided at the key they are written to. */
const ROUTER_INPUTS = new Set(['PagerAliasLinked', 'PagerActionForwarded', 'PagerAliasResolved']);


/** The pager's report of `action` on the alert `alias`: created at T0 + 1 s, taken in the app unless `by` says otherwise. */
const pagerAction = (action: string, alias: string, init: Partial<PagerActionReceived> & { at?: number; by?: string } = {}) =>
  webhookAction(action, alias, { alertCreatedAt: new Date(T0 + 1_000).toISOString(), by: 'Android', ...init });

/**
 * One router holding every key: each input decided against its key's state, and the inputs the router writes to
 * itself decided in turn at theirs, as the processor reads them back. Every output is checked against its schema.
 */
class Router {
  readonly states = new Map<string, RouterState>();
  /** Every key's incident, as the processor's index answers other keys' decisions (storm control among them): when asked. */
  readonly index: StateIndex | undefined;

  constructor(withIndex = false) {
    this.index = withIndex ? new StateIndex() : undefined;
  }

  /** Every event written, in order. */
  readonly written: AnyEnvelope[] = [];

  send(input: RouterInput): AnyEnvelope[] {
    const queue: RouterInput[] = [input];
    const out: AnyEnvelope[] = [];
    while (queue.length > 0) {
      const next = queue.shift()!;
      const d = decide(next, this.states.get(next.alias), rules, this.index ? { neighbours: this.index } : {});
      if (d.state === undefined) this.states.delete(next.alias);
      else this.states.set(next.alias, d.state);
      this.index?.put(next.alias, d.state);
      for (const e of d.events) {
        const v = validateEnvelope(e);
        if (!v.ok) throw new Error(`${e.type} is not valid: ${v.error}`);
        out.push(e);
        if (ROUTER_INPUTS.has(e.type)) queue.push(e as RouterInput);
      }
    }
    this.written.push(...out);
    return out;
  }

  incident(alias: string): AliasState {
    const s = this.states.get(alias);
    if (!isIncidentState(s)) throw new Error(`no incident at ${alias}`);
    return s;
  }
}

const types = (events: AnyEnvelope[]) => events.map((e) => [e.type, e.alias]);
const reasons = (events: AnyEnvelope[]) => events.filter((e) => e.type === 'EventSuppressed').map((e) => [e.alias, (e.data as { reason: string }).reason]);

function paged(...aliases: string[]): Router {
  return pagedOn(new Router(), ...aliases);
}

function pagedOn(router: Router, ...aliases: string[]): Router {
  aliases.forEach((alias, i) => router.send(firing(alias, { at: i * 100 })));
  return router;
}

describe('acks and closes of a pager alert under a templated pager alias reach its incidents', () => {
  test('paging an incident under a templated alias links the pager alias to the incident', () => {
    const router = new Router();
    const events = router.send(firing(A));
    const I = router.incident(A).incidentId;
    expect(events.find((e) => e.type === 'CreatePagerAlert')!.alias).toBe(PAGER);
    const link = events.find((e) => e.type === 'PagerAliasLinked')!;
    expect(link).toMatchObject({ alias: PAGER, data: { pagerAlias: PAGER, alias: A, incidentId: I } });
    expect(router.states.get(PAGER)).toMatchObject({ kind: 'pager-alias', key: PAGER, links: [{ alias: A, incidentId: I }] });
  });

  test('given an incident paged under a templated alias, when its pager alert is acknowledged, the ack is forwarded to the incident and acknowledges it; nothing goes to the pager', () => {
    const router = paged(A);
    const I = router.incident(A).incidentId;
    const ack = pagerAction('Acknowledge', PAGER);
    const events = router.send(ack);
    expect(types(events)).toEqual([
      ['PagerActionForwarded', A],
      ['IncidentAcknowledged', A],
      ['PostSlackMessage', A],
      ['UpdateSlackMessage', A],
    ]);
    expect(events[0]).toMatchObject({ causationId: ack.id, data: { action: 'Acknowledge', pagerAlias: PAGER, incidentId: I, receivedId: ack.id, user: 'pager-person' } });
    expect(events[1]!.data).toMatchObject({ incidentId: I, status: 'acknowledged', by: 'pager-person', inputId: events[0]!.id });
    expect(events[2]!.data).toMatchObject({ purpose: 'reply', text: 'Acknowledged in Opsgenie by pager-person.' });
    expect(events.filter((e) => PAGER_COMMANDS.includes(e.type))).toEqual([]);
    expect(router.incident(A)).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'pager-person' });

    const close = router.send(pagerAction('Close', PAGER, { at: 6_000 }));
    expect(types(close)).toEqual([
      ['PagerActionForwarded', A],
      ['IncidentResolved', A],
      ['PostSlackMessage', A],
      ['UpdateSlackMessage', A],
    ]);
    expect(close.filter((e) => PAGER_COMMANDS.includes(e.type))).toEqual([]);
    expect(router.incident(A)).toMatchObject({ status: 'resolved', resolvedBy: 'pager-person' });
  });

  test('an UnAcknowledge of the pager alert under a templated alias is forwarded like an ack and opens its acknowledged incidents again', () => {
    const router = paged(A, B);
    router.send(pagerAction('Acknowledge', PAGER));
    const events = router.send(pagerAction('UnAcknowledge', PAGER, { at: 6_000 }));
    expect(events.filter((e) => e.type === 'PagerActionForwarded').map((e) => e.alias)).toEqual([A, B]);
    expect(events.filter((e) => e.type === 'IncidentUnacknowledged').map((e) => e.alias)).toEqual([A, B]);
    expect(events.filter((e) => PAGER_COMMANDS.includes(e.type))).toEqual([]);
    expect(router.incident(A).status).toBe('open');
    expect(router.incident(B).status).toBe('open');
  });

  test('two incidents on one pager alert: its ack acknowledges both, its close resolves both', () => {
    const router = paged(A, B);
    expect(router.states.get(PAGER)).toMatchObject({ links: [{ alias: A }, { alias: B }] });
    const acked = router.send(pagerAction('Acknowledge', PAGER));
    expect(acked.filter((e) => e.type === 'IncidentAcknowledged').map((e) => e.alias)).toEqual([A, B]);
    expect(router.incident(A).status).toBe('acknowledged');
    expect(router.incident(B).status).toBe('acknowledged');
    router.send(pagerAction('Close', PAGER, { at: 6_000 }));
    expect(router.incident(A).status).toBe('resolved');
    expect(router.incident(B).status).toBe('resolved');
  });

  test('an incident that joined the pager alert long after it was created is acknowledged with the others', () => {
    const router = paged(A);
    // B opens 10 minutes after A's page created the shared pager alert: it joins that alert.
    router.send(firing(B, { at: 10 * 60_000 }));
    const acked = router.send(pagerAction('Acknowledge', PAGER, { at: 11 * 60_000 }));
    expect(acked.filter((e) => e.type === 'IncidentAcknowledged').map((e) => e.alias)).toEqual([A, B]);
    expect(reasons(acked)).toEqual([]);
  });

  test('the pager\'s echo of an ack alertbus made (clicked in Slack for one incident) acknowledges none of the others and sends nothing', () => {
    const router = paged(A, B);
    const click = router.send(buttonClick(A, router.incident(A).incidentId, 'alertbus_ack', { at: 1_000 }));
    expect(click.find((e) => e.type === 'AcknowledgePagerAlert')!.alias).toBe(PAGER);
    const echo = router.send(pagerAction('Acknowledge', PAGER, { user: 'bob', by: 'alertbus' }));
    expect(types(echo)).toEqual([['EventSuppressed', PAGER]]);
    expect(reasons(echo)).toEqual([[PAGER, 'own-action']]);
    expect(router.incident(A)).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'U0BOB' });
    expect(router.incident(B).status).toBe('open');
  });

  test('the pager\'s echo of the close alertbus made when its incidents were resolved in Slack is its own action: nothing more is written', () => {
    const router = paged(A, B);
    router.send(buttonClick(A, router.incident(A).incidentId, 'alertbus_resolve', { at: 1_000 }));
    const gone = router.send(buttonClick(B, router.incident(B).incidentId, 'alertbus_resolve', { at: 2_000 }));
    expect(gone.find((e) => e.type === 'ClosePagerAlert')!.alias).toBe(PAGER);
    const echo = router.send(pagerAction('Close', PAGER, { user: 'alertbus', by: 'alertbus' }));
    expect(types(echo)).toEqual([['EventSuppressed', PAGER]]);
    expect(reasons(echo)).toEqual([[PAGER, 'own-action']]);
  });

  test('a second Acknowledge of the pager alert reaches the acknowledged incident as already acknowledged, with no second note', () => {
    const router = paged(A);
    router.send(pagerAction('Acknowledge', PAGER, { at: 2_000 }));
    const again = router.send(pagerAction('Acknowledge', PAGER, { at: 3_000, user: 'someone-else' }));
    expect(types(again)).toEqual([['PagerActionForwarded', A], ['EventSuppressed', A]]);
    expect(reasons(again)).toEqual([[A, 'already-acknowledged']]);
  });

  test('a redelivered action is forwarded under the same ids, and the incident decides it once', () => {
    const router = paged(A);
    const ack = pagerAction('Acknowledge', PAGER);
    const first = router.send(ack);
    const again = router.send(ack);
    expect(again[0]!.id).toBe(first[0]!.id);
    expect(again[0]!.type).toBe('PagerActionForwarded');
    expect(types(again.slice(1))).toEqual([['EventSuppressed', A]]);
    expect(reasons(again)).toEqual([[A, 'already-acknowledged']]);
    // Deciding the same action on the same state writes byte-identical records.
    const replay = paged(A);
    expect(JSON.stringify(replay.send(ack))).toBe(JSON.stringify(first));
  });

  test.each([
    ['a pager alias no incident was paged under', () => new Router(), pagerAction('Acknowledge', PAGER), [[PAGER, 'no-incident']]],
    ['an AddNote on a linked pager alert (not forwarded)', () => paged(A), pagerAction('AddNote', PAGER), [[PAGER, 'unknown-action']]],
  ] as const)('%s is recorded as suppressed at the pager alias and reaches no incident', (_name, given, input, expected) => {
    const router = given();
    const events = router.send(input);
    expect(reasons(events)).toEqual(expected);
    expect(events.map((e) => e.type)).toEqual(['EventSuppressed']);
  });

  test('a forwarded action for an earlier occurrence of the incident changes the open one in nothing', () => {
    const router = paged(A);
    const first = router.incident(A).incidentId;
    router.send(resolved(A, { at: 1_000 }));
    // Fires again, but its new page under the alias is not linked yet: the link still names the first occurrence.
    const link = router.states.get(PAGER);
    router.send(firing(A, { at: 120_000 }));
    router.states.set(PAGER, link!);
    expect(router.incident(A).incidentId).not.toBe(first);
    const late = router.send(pagerAction('Close', PAGER, { at: 130_000, alertCreatedAt: new Date(T0 + 121_000).toISOString() }));
    expect(reasons(late)).toEqual([[A, 'other-occurrence']]);
    expect(router.incident(A).status).toBe('open');
  });

  test('a new occurrence paged under the alias replaces its alias\'s link; the links are bounded, the longest-linked let go when all are open', () => {
    const router = paged(A);
    router.send(resolved(A, { at: 1_000 }));
    router.send(firing(A, { at: 120_000 }));
    expect(router.states.get(PAGER)).toMatchObject({ links: [{ alias: A, incidentId: router.incident(A).incidentId }] });
    const many = Array.from({ length: PAGER_ALIAS_LINKS_MAX + 1 }, (_, i) => `alertmanager:${String(i).padStart(4, '0')}`);
    for (const alias of many) router.send(firing(alias, { at: 130_000 }));
    const links = (router.states.get(PAGER) as { links: Array<{ alias: string }> }).links;
    expect(links).toHaveLength(PAGER_ALIAS_LINKS_MAX);
    expect(links.map((l) => l.alias)).toEqual(many.slice(1));
  });

  test('the link is kept while its incident is open, and forgotten ROUTER_STATE_RETENTION after it resolved, like the other records kept under keys', () => {
    const router = paged(A);
    const retentionMs = 3_600_000;
    const open = decide(pagerAction('Acknowledge', PAGER, { at: 10 * retentionMs }), router.states.get(PAGER), rules, { retentionMs });
    expect(open.events.map((e) => e.type)).toEqual(['PagerActionForwarded']);
    router.send(resolved(A, { at: 1_000 }));
    const link = router.states.get(PAGER);
    const within = decide(pagerAction('Acknowledge', PAGER, { at: 1_000 + retentionMs - 1 }), link, rules, { retentionMs });
    expect(within.events.map((e) => e.type)).toEqual(['PagerActionForwarded']);
    const after = decide(pagerAction('Acknowledge', PAGER, { at: 1_000 + retentionMs }), link, rules, { retentionMs });
    expect(reasons(after.events)).toEqual([[PAGER, 'no-incident']]);
  });

  test('a Close of the pager alert marks every link resolved; the pager\'s Acknowledge or alertbus\'s own Close marks none', () => {
    const router = paged(A, B);
    router.send(pagerAction('Acknowledge', PAGER, { at: 2_000 }));
    router.send(pagerAction('Close', PAGER, { at: 3_000, by: 'alertbus' }));
    const { links } = router.states.get(PAGER) as { links: Array<{ resolved?: true }> };
    expect(links.map((l) => l.resolved)).toEqual([undefined, undefined]);
    router.send(pagerAction('Close', PAGER, { at: 6_000 }));
    expect(router.states.get(PAGER)).toMatchObject({ at: new Date(T0 + 6_000).toISOString(), links: [{ alias: A, resolved: true }, { alias: B, resolved: true }] });
  });

  test('an incident paged under its own alias writes no link', () => {
    const own = compileRules(Buffer.from('defaults:\n  slack: { channel: "#alerts" }\n  pager: { priority: P2 }\n'), 'own.yaml', { defaultChannel: '#alerts' });
    if (!own.ok) throw new Error(own.message);
    const d = decide(firing(A), undefined, own.rules);
    expect(d.events.map((e) => e.type)).toContain('CreatePagerAlert');
    expect(d.events.map((e) => e.type)).not.toContain('PagerAliasLinked');
  });
});

describe('a pager alert several incidents share under a templated alias is closed when the last of them resolves', () => {
  const pagerCommands = (events: AnyEnvelope[]) =>
    events.filter((e) => PAGER_COMMANDS.includes(e.type)).map((e) => [e.type, e.alias, (e.data as { note?: string }).note]);

  test('given two incidents on one pager alert, when the first resolves at its source, the alert gets a note and stays open; when the second resolves, it is closed', () => {
    const router = pagedOn(new Router(true), A, B);
    const first = router.send(resolved(A, { at: 1_000 }));
    expect(router.incident(A).status).toBe('resolved');
    expect(pagerCommands(first)).toEqual([
      ['AddPagerNote', PAGER, `Resolved at the source: ${router.incident(A).title} (${A}). This alert stays open for 1 other incident still open on it.`],
    ]);
    expect(first.find((e) => e.type === 'AddPagerNote')!.data).toMatchObject({ incidentId: router.incident(A).incidentId });

    const last = router.send(resolved(B, { at: 2_000 }));
    expect(pagerCommands(last)).toEqual([['ClosePagerAlert', PAGER, 'Resolved at the source.']]);
    expect(last.find((e) => e.type === 'ClosePagerAlert')!.data).toMatchObject({ incidentId: router.incident(B).incidentId });
  });

  test('given two incidents on one pager alert, when one is resolved in Slack, the alert gets a note saying who and stays open; the other\'s resolve in Slack closes it as that person', () => {
    const router = pagedOn(new Router(true), A, B);
    const first = router.send(buttonClick(A, router.incident(A).incidentId, 'alertbus_resolve', { at: 1_000 }));
    expect(router.incident(A).status).toBe('resolved');
    expect(pagerCommands(first)).toEqual([
      ['AddPagerNote', PAGER, `Resolved in Slack by bob: ${router.incident(A).title} (${A}). This alert stays open for 1 other incident still open on it.`],
    ]);
    expect(router.incident(B).status).toBe('open');
    const last = router.send(buttonClick(B, router.incident(B).incidentId, 'alertbus_resolve', { at: 2_000 }));
    expect(pagerCommands(last)).toEqual([['ClosePagerAlert', PAGER, 'Resolved in Slack by bob.']]);
    expect(last.find((e) => e.type === 'ClosePagerAlert')!.data).toMatchObject({ incidentId: router.incident(B).incidentId, user: 'bob' });
  });

  test('one incident alone on its pager alert closes it when it resolves, as before', () => {
    const router = pagedOn(new Router(true), A);
    expect(pagerCommands(router.send(resolved(A, { at: 1_000 })))).toEqual([['ClosePagerAlert', PAGER, 'Resolved at the source.']]);
  });

  test('an incident that fires again after the shared alert closed pages again, and its resolve closes the new alert', () => {
    const router = pagedOn(new Router(true), A, B);
    router.send(resolved(A, { at: 1_000 }));
    router.send(resolved(B, { at: 2_000 }));
    const again = router.send(firing(A, { at: 120_000 }));
    expect(again.find((e) => e.type === 'CreatePagerAlert')!.alias).toBe(PAGER);
    expect(pagerCommands(router.send(resolved(A, { at: 130_000 })))).toEqual([['ClosePagerAlert', PAGER, 'Resolved at the source.']]);
  });

  test('a linked incident resolved another way (the pager\'s Close of an earlier alert) keeps no later alert under the alias open', () => {
    const router = pagedOn(new Router(true), A, B);
    router.send(pagerAction('Close', PAGER, { at: 6_000 }));
    expect(router.incident(B).status).toBe('resolved');
    router.send(firing(A, { at: 120_000 }));
    expect(pagerCommands(router.send(resolved(A, { at: 130_000 })))).toEqual([['ClosePagerAlert', PAGER, 'Resolved at the source.']]);
  });

  test('a second resolve of a resolved incident sends the pager nothing more', () => {
    const router = pagedOn(new Router(true), A, B);
    router.send(resolved(A, { at: 1_000 }));
    expect(pagerCommands(router.send(resolved(A, { at: 1_500 })))).toEqual([]);
    expect(pagerCommands(router.send(resolved(B, { at: 2_000 })))).toEqual([['ClosePagerAlert', PAGER, 'Resolved at the source.']]);
  });

  test('a linked incident missing from the other aliases\' states (another instance\'s, not read yet) still counts as open', () => {
    const router = pagedOn(new Router(true), A, B);
    const link = router.states.get(PAGER);
    const resolve = router.send(resolved(A, { at: 1_000 })).find((e) => e.type === 'PagerAliasResolved') as RouterInput;
    const d = decide(resolve, link, rules, { neighbours: new StateIndex(), retentionMs: 3_600_000 });
    expect(pagerCommands(d.events)).toEqual([['AddPagerNote', PAGER, expect.stringContaining('stays open for 1 other incident')]]);
  });

  test('a pager alias with no links kept (written before links were, or forgotten) closes the alert, as one incident\'s resolve always did', () => {
    const router = pagedOn(new Router(true), A, B);
    router.states.delete(PAGER);
    expect(pagerCommands(router.send(resolved(A, { at: 1_000 })))).toEqual([['ClosePagerAlert', PAGER, 'Resolved at the source.']]);
  });
});
