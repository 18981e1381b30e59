import { PAGER_ALIAS_LINKS_MAX, validateEnvelope, type AnyEnvelope, type SlackKeyState } from '@alertbus/schemas';
import type { RouterInput } from '../decider';
import { compileRules } from '../rules/compile';
import { firing, resolved, T0 } from '../test-support/alerts';
import { pagerAction } from '../test-support/pager';
import { expiresAt } from './expiry';
import { Replayer } from './replay';

/**
 * A templated pager alias over weeks, through the Replayer with the default retention (7 days): states expire and are
 * evicted as the router's are, and the inputs the router writes to itself are decided in turn at their keys.
 */
const rules = (() => {
  const c = compileRules(
    Buffer.from('defaults:\n  slack: { channel: "#alerts" }\n  pager: { priority: P2, alias: "{{ labels.cluster }}" }\n'),
    'cluster.yaml',
    { defaultChannel: '#alerts' },
  );
  if (!c.ok) throw new Error(c.message);
  return c.rules;
})();

const DAY = 86_400_000;
const RETENTION = 7 * DAY;
const PAGER = 'pager:c1';
const A = 'alertmanager:aaaa';
const B = 'alertmanager:bbbb';
const C = 'alertmanager:cccc';
const ROUTER_INPUTS = new Set(['PagerAliasLinked', 'PagerActionForwarded', 'PagerAliasResolved']);
const PAGER_COMMANDS = new Set(['CreatePagerAlert', 'ClosePagerAlert', 'AddPagerNote']);

type PagerAliasState = Extract<SlackKeyState, { kind: 'pager-alias' }>;

class Router {
  readonly replayer: Replayer;

  constructor(keys: SlackKeyState[] = []) {
    this.replayer = new Replayer(rules, { retentionMs: RETENTION, keys: new Map(keys.map((k) => [k.key, k])) });
  }

  /** Every event the input leads to, the router's own inputs decided after it. */
  send(input: RouterInput): AnyEnvelope[] {
    const queue: RouterInput[] = [input];
    const out: AnyEnvelope[] = [];
    while (queue.length > 0) {
      for (const e of this.replayer.decide(queue.shift()!).events) {
        const v = validateEnvelope(e);
        if (!v.ok) throw new Error(`${e.type} is not valid: ${v.error}`);
        out.push(e);
        if (ROUTER_INPUTS.has(e.type)) queue.push(e as RouterInput);
      }
    }
    return out;
  }

  status(alias: string): string | undefined {
    return this.replayer.state(alias)?.status;
  }
}

const onCluster = (alias: string, at: number, cluster = 'c1') => firing(alias, { at, labels: { alertname: 'DiskFull', team: 'db', cluster } });
const pagerCommands = (events: AnyEnvelope[]) =>
  events.filter((e) => PAGER_COMMANDS.has(e.type)).map((e) => [e.type, e.alias, (e.data as { note?: string }).note?.replace(/^.*stays open/, 'stays open')]);
const reasons = (events: AnyEnvelope[]) => events.filter((e) => e.type === 'EventSuppressed').map((e) => [e.alias, (e.data as { reason: string }).reason]);

describe('a shared pager alert under a templated alias closes once its last incident resolves, whatever was forgotten meanwhile', () => {
  test('an incident closed in the pager and forgotten since keeps no later alert under the alias open', () => {
    const router = new Router();
    router.send(onCluster(A, 0));
    router.send(pagerAction('Close', PAGER, { at: 5_000 }));
    expect(router.status(A)).toBe('resolved');
    // B pages under c1 on day 6; A is forgotten on day 7; C joins on day 9.
    router.send(onCluster(B, 6 * DAY));
    router.send(onCluster(C, 9 * DAY));
    expect(router.replayer.state(A)).toBeUndefined();
    expect(pagerCommands(router.send(resolved(B, { at: 9 * DAY + 60_000 })))).toEqual([['AddPagerNote', PAGER, 'stays open for 1 other incident still open on it.']]);
    expect(pagerCommands(router.send(resolved(C, { at: 9 * DAY + 120_000 })))).toEqual([['ClosePagerAlert', PAGER, 'Resolved at the source.']]);
  });

  test('a link kept by an older alertbus whose incident is forgotten does not hold the alert open', () => {
    // What an older alertbus kept: the link of an incident long resolved in the pager, never marked resolved.
    const older: PagerAliasState = { kind: 'pager-alias', key: PAGER, inputId: 'older', at: new Date(T0).toISOString(), links: [{ alias: A, incidentId: 'incident-a' }] };
    const router = new Router([older]);
    router.send(onCluster(B, DAY));
    expect(pagerCommands(router.send(resolved(B, { at: DAY + 60_000 })))).toEqual([['ClosePagerAlert', PAGER, 'Resolved at the source.']]);
  });
});

describe('the links of a templated pager alias last as long as their incidents are open', () => {
  test('given two incidents open for more than the retention, a Close in the pager resolves both', () => {
    const router = new Router();
    router.send(onCluster(A, 0));
    router.send(onCluster(B, 100));
    router.send(onCluster('alertmanager:elsewhere', 8 * DAY, 'c2'));
    const close = router.send(pagerAction('Close', PAGER, { at: 8 * DAY + 60_000 }));
    expect(reasons(close)).toEqual([]);
    expect(close.filter((e) => e.type === 'IncidentResolved').map((e) => e.alias)).toEqual([A, B]);
    expect(router.status(A)).toBe('resolved');
    expect(router.status(B)).toBe('resolved');
  });

  test('given two incidents open for more than the retention, the first to resolve at its source leaves the alert open for the other', () => {
    const router = new Router();
    router.send(onCluster(A, 0));
    router.send(onCluster(B, 100));
    router.send(onCluster('alertmanager:elsewhere', 8 * DAY, 'c2'));
    expect(pagerCommands(router.send(resolved(A, { at: 8 * DAY + 60_000 })))).toEqual([['AddPagerNote', PAGER, 'stays open for 1 other incident still open on it.']]);
    expect(pagerCommands(router.send(resolved(B, { at: 8 * DAY + 120_000 })))).toEqual([['ClosePagerAlert', PAGER, 'Resolved at the source.']]);
  });

  test('once its last incident resolved, the pager alias is forgotten the retention after that resolve', () => {
    const router = new Router();
    router.send(onCluster(A, 0));
    router.send(resolved(A, { at: 10 * DAY }));
    const kept = router.replayer['keys'].get(PAGER) as PagerAliasState;
    expect(kept.links).toEqual([expect.objectContaining({ alias: A, resolved: true })]);
    expect(expiresAt(kept, RETENTION)).toBe(T0 + 10 * DAY + RETENTION);
    router.send(onCluster('alertmanager:elsewhere', 18 * DAY, 'c2'));
    expect(router.replayer['keys'].has(PAGER)).toBe(false);
  });

  test('at PAGER_ALIAS_LINKS_MAX links, a new one lets go of the longest-linked resolved incident, not an open one', () => {
    const router = new Router();
    const many = Array.from({ length: PAGER_ALIAS_LINKS_MAX }, (_, i) => `alertmanager:${String(i).padStart(4, '0')}`);
    // Ten seconds apart, far below a storm's rate: each is paged on its own.
    many.forEach((alias, i) => router.send(onCluster(alias, i * 10_000)));
    // The second-linked resolves; the first stays open.
    router.send(resolved(many[1]!, { at: 1_100_000 }));
    router.send(onCluster(A, 1_200_000));
    const links = (router.replayer['keys'].get(PAGER) as PagerAliasState).links.map((l) => l.alias);
    expect(links).toEqual([many[0], ...many.slice(2), A]);
    const ack = router.send(pagerAction('Acknowledge', PAGER, { at: 1_300_000 }));
    expect(ack.filter((e) => e.type === 'IncidentAcknowledged').map((e) => e.alias)).toContain(many[0]);
  });
});
