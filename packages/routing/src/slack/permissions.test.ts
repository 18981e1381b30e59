/** The rules file's `permissions:` as specifications: who may ack, resolve and clear the cache, and what a refusal does. */
import type { AliasState } from '@alertbus/schemas';
import { decide } from '../decider';
import { builtinRules, compileRules } from '../rules/compile';
import { firing } from '../test-support/alerts';
import { rulesFrom } from '../test-support/scenario';
import { given } from '../test-support/slack-spec';
import { ALICE, BOB, BOT_MENTION, CHANNEL, buttonClick, rootPosted, slackMessage } from '../test-support/slack';
import { authorize, openPermissionsWarning, roleOf } from './authorize';
import { threadKey } from './thread-key';

const rules = rulesFrom('rules.permissions.yaml');
const open = builtinRules({ defaultChannel: '#alerts', oncallSchedule: 'ops' });
const CAROL = 'U0CAROL';
const DAVE = 'U0DAVE';

const A = 'alertmanager:perm';
const incident = decide(firing(A), undefined, rules).state as AliasState;
const I = incident.incidentId;
const ROOT_TS = '1700000000.000500';

describe('the router warns while the rules leave Slack open', () => {
  test('without permissions: every member may silence, and the warning says so', () => {
    expect(roleOf(open, { userId: ALICE })).toEqual({ role: 'admin', from: 'no permissions: section (everyone may do everything)' });
    expect(authorize(open, { userId: ALICE }, 'unsilence').allowed).toBe(true);
    expect(openPermissionsWarning(open)).toMatch(/^SLACK PERMISSIONS ARE OPEN: .*silence alerts and end any silence/);
  });

  test('with a permissions: section, even one that makes everyone an operator, there is no warning', () => {
    expect(openPermissionsWarning(rules)).toBeUndefined();
    const r = compileRules('permissions:\n  default: operator\n', 't.yaml', { defaultChannel: '#a' });
    if (!r.ok) throw new Error(r.message);
    expect(openPermissionsWarning(r.rules)).toBeUndefined();
  });
});

describe('roles: the users: entry, else the highest group, else the default', () => {
  test.each([
    ['a listed user', { userId: BOB }, 'operator', 'permissions.users.U0BOB'],
    ['an admin', { userId: CAROL }, 'admin', 'permissions.users.U0CAROL'],
    ['a member of @sre (written with its @ in the file)', { userId: DAVE, groups: ['sre'] }, 'operator', 'permissions.groups.sre'],
    ['in two groups: the highest wins', { userId: DAVE, groups: ['SRE', 'oncall-leads'] }, 'admin', 'permissions.groups.oncall-leads'],
    ['in a group the file does not name', { userId: DAVE, groups: ['marketing'] }, 'viewer', 'permissions.default'],
    ['nobody special', { userId: ALICE }, 'viewer', 'permissions.default'],
    // Handles and ids are data: names of Object.prototype's members find no role there.
    ['in groups named constructor, __proto__ and toString', { userId: DAVE, groups: ['constructor', '__proto__', 'toString'] }, 'viewer', 'permissions.default'],
    ['a user id spelt like a prototype member', { userId: 'constructor' }, 'viewer', 'permissions.default'],
  ] as const)('%s', (_name, actor, role, from) => {
    expect(roleOf(rules, actor)).toEqual({ role, from });
  });

  test('a users: entry is over the groups, so one person can be lowered', () => {
    const r = compileRules('permissions:\n  default: operator\n  users: { U0DAVE: viewer }\n  groups: { sre: admin }\n', 't.yaml', { defaultChannel: '#a' });
    if (!r.ok) throw new Error(r.message);
    expect(roleOf(r.rules, { userId: DAVE, groups: ['sre'] }).role).toBe('viewer');
    expect(roleOf(r.rules, { userId: ALICE }).role).toBe('operator');
  });

  test('ack, resolve, silence, unsilence need operator; cache clear needs admin', () => {
    expect(authorize(rules, { userId: BOB }, 'resolve')).toEqual({ allowed: true, role: 'operator' });
    expect(authorize(rules, { userId: BOB }, 'silence').allowed).toBe(true);
    expect(authorize(rules, { userId: BOB }, 'cache-clear')).toMatchObject({ allowed: false, role: 'operator', needed: 'admin' });
    expect(authorize(rules, { userId: ALICE }, 'ack')).toMatchObject({ allowed: false, role: 'viewer', needed: 'operator', reason: expect.stringContaining('permissions.default') });
  });

  test('no permissions: section is the open behaviour of before: everyone may do everything', () => {
    expect(open.permissions).toBeUndefined();
    expect(authorize(open, { userId: ALICE }, 'cache-clear')).toEqual({ allowed: true, role: 'admin' });
  });

  test('a permissions: section without default: makes everyone else a viewer', () => {
    const r = compileRules('permissions:\n  users: { U0BOB: operator }\n', 't.yaml', { defaultChannel: '#a' });
    if (!r.ok) throw new Error(r.message);
    expect(roleOf(r.rules, { userId: ALICE }).role).toBe('viewer');
  });
});

describe('buttons: a viewer is refused, an operator acts', () => {
  test('given an open incident, when a viewer clicks Resolve, then nothing changes, the refusal is recorded and told to them alone', () => {
    const g = given(rules, incident);
    const hook = 'https://hooks.slack.com/actions/T0TEAM/1/click';
    const { sim } = g.when(buttonClick(A, I, 'alertbus_resolve', { user: { id: ALICE, name: 'alice' }, responseUrl: hook })).then([
      [
        'EventSuppressed',
        {
          reason: 'not-permitted',
          incidentId: I,
          refused: { action: 'resolve', user: ALICE, role: 'viewer', needed: 'operator', reason: expect.stringContaining('permissions.default') },
        },
      ],
      // At the click's response_url first: it reaches the clicker in a channel they are not a member of.
      ['PostSlackEphemeral', { incidentId: I, channel: 'C0ALERTS', user: ALICE, text: expect.stringContaining('*operator*'), responseUrl: hook }],
    ]);
    expect(sim.incident(A)).toMatchObject({ status: 'open' });
  });

  test('when an operator (by group) clicks Resolve, it is resolved', () => {
    given(rules, incident)
      .when(buttonClick(A, I, 'alertbus_resolve', { user: { id: DAVE, name: 'dave' }, userGroups: ['sre'] }))
      .then([['IncidentResolved', { by: DAVE }], ['PostSlackMessage', {}], ['UpdateSlackMessage', {}], ['ClosePagerAlert', {}, A]]);
  });

  test('the refusal comes before "already resolved": a viewer learns they may not, not what the state is', () => {
    const g = given(rules, incident, buttonClick(A, I, 'alertbus_resolve', { user: { id: BOB, name: 'bob' } }));
    g.when(buttonClick(A, I, 'alertbus_ack', { user: { id: ALICE, name: 'alice' }, n: 1 })).then([
      ['EventSuppressed', { reason: 'not-permitted', refused: { action: 'ack' } }],
      ['PostSlackEphemeral', { user: ALICE }],
    ]);
  });
});

describe('typed ack / resolve: the role travels with the command to the incident', () => {
  const inThread = (text: string, user: string, ts: string, userGroups?: string[]) =>
    slackMessage(ts, { text: `${BOT_MENTION} ${text}`, threadTs: ROOT_TS, channel: 'C0ALERTS', user, ...(userGroups ? { userGroups } : {}) });

  test('given the thread of an incident, a viewer typing resolve changes nothing and is told in the thread, privately', () => {
    const g = given(rules, incident, rootPosted(A, I, ROOT_TS));
    g.when(inThread('resolve', ALICE, '1700000100.000100')).then([
      ['EventSuppressed', { reason: 'command' }],
      ['SlackTextCommandReceived', { command: 'resolve', user: ALICE }, threadKey('C0ALERTS', ROOT_TS)],
      ['SlackActionReceived', { actionType: 'text-command', user: { id: ALICE } }, A],
      ['EventSuppressed', { reason: 'not-permitted', incidentId: I, refused: { user: ALICE, role: 'viewer' } }, A],
      ['PostSlackEphemeral', { channel: 'C0ALERTS', user: ALICE, threadTs: ROOT_TS }, A],
    ]);
    expect(g.sim.incident(A)).toMatchObject({ status: 'open' });
  });

  test('a member of @sre typing resolve resolves: the groups ingest found are carried to the incident', () => {
    const g = given(rules, incident, rootPosted(A, I, ROOT_TS));
    g.when(inThread('resolve', DAVE, '1700000100.000200', ['sre'])).then([
      ['EventSuppressed', { reason: 'command' }],
      ['SlackTextCommandReceived', { userGroups: ['sre'] }, threadKey('C0ALERTS', ROOT_TS)],
      ['SlackActionReceived', { userGroups: ['sre'] }, A],
      ['IncidentResolved', { by: DAVE }, A],
      ['PostSlackMessage', {}, A],
      ['UpdateSlackMessage', {}, A],
      ['ClosePagerAlert', {}, A],
    ]);
  });
});

describe('cache clear needs admin', () => {
  test('an operator is refused (recorded, told privately, the cache kept); an admin clears it', () => {
    given(rules)
      .when(slackMessage('1700000200.000100', { text: `${BOT_MENTION} cache clear`, user: BOB }))
      .then([
        ['EventSuppressed', { reason: 'not-permitted', refused: { action: 'cache-clear', user: BOB, role: 'operator', needed: 'admin' } }],
        ['PostSlackEphemeral', { channel: CHANNEL, user: BOB, threadTs: '1700000200.000100', text: expect.stringContaining('*admin*') }],
      ]);
    given(rules)
      .when(slackMessage('1700000200.000200', { text: `${BOT_MENTION} cache clear`, user: CAROL }))
      .then([['EventSuppressed', { reason: 'command' }], ['ClearOnCallCache', { requestedBy: CAROL }]]);
  });

  test('without a permissions: section anyone may clear it, as before', () => {
    given(open)
      .when(slackMessage('1700000200.000300', { text: `${BOT_MENTION} cache clear`, user: ALICE }))
      .then([['EventSuppressed', { reason: 'command' }], ['ClearOnCallCache', { requestedBy: ALICE }]]);
  });
});
