/**
 * Label names that every JavaScript object answers to (`constructor`, `toString`, `__proto__`…): an alert without
 * such a label is routed, silenced, inhibited and paged as without any other label, and one that has it is matched by it.
 */
import { deriveId, makeEnvelope, type AliasState } from '@alertbus/schemas';
import { decide, type Decision } from '../decider';
import { compileRules } from '../rules/compile';
import type { CompiledRules } from '../rules/types';
import { firing, HOUR, MINUTE, T0 } from '../test-support/alerts';
import { brief } from '../test-support/scenario';
import { Replayer } from './replay';
import { SilenceBook } from './silences';
import { pagerDetails } from './pager';
import { mentionMarkup } from '../rules/mention';
import { renderReply } from '../slack/custom-commands';

function rulesOf(yaml: string): CompiledRules {
  const r = compileRules(yaml, 'inherited-names.yaml', { defaultChannel: '#alerts' });
  if (!r.ok) throw new Error(r.message);
  return r.rules;
}

/** Labels as ingest reads them from JSON: a `constructor` or `__proto__` key is the alert's own label. */
const fromJson = (labels: Record<string, string>): Record<string, string> => JSON.parse(JSON.stringify(labels).replace('"own":', '"__proto__":'));

const channelOf = (events: Decision['events']) => events.find((e) => e.type === 'PostSlackMessage')?.data;

describe('a rule matching on a label name every object answers to', () => {
  test.each(['toString', 'constructor', '__proto__', 'valueOf', 'hasOwnProperty'])('%s!~"skip.*" routes an alert without that label, as for any absent label', (name) => {
    const rules = rulesOf(`defaults:\n  slack: { channel: "#alerts" }\nrules:\n  - match: ['${name}!~"skip.*"']\n    slack: { channel: "#kept" }\n`);
    const d = decide(firing('am:x', { labels: { alertname: 'x' } }), undefined, rules);
    expect(channelOf(d.events)).toMatchObject({ purpose: 'root', channel: '#kept' });
  });

  test.each(['toString', 'constructor', '__proto__'])('%s="" matches an alert without that label', (name) => {
    const rules = rulesOf(`defaults:\n  slack: { channel: "#alerts" }\nrules:\n  - match: ['${name}=""']\n    slack: { channel: "#unlabelled" }\n`);
    expect(channelOf(decide(firing('am:x', { labels: { alertname: 'x' } }), undefined, rules).events)).toMatchObject({ channel: '#unlabelled' });
  });

  test('an alert that has a label named constructor (or __proto__) is matched by its value', () => {
    const rules = rulesOf(
      `defaults:\n  slack: { channel: "#alerts" }\nrules:\n  - match: ['constructor="a"']\n    slack: { channel: "#a" }\n  - match: ['__proto__="b"']\n    slack: { channel: "#b" }\n`,
    );
    expect(channelOf(decide(firing('am:a', { labels: fromJson({ alertname: 'x', constructor: 'a' }) }), undefined, rules).events)).toMatchObject({ channel: '#a' });
    expect(channelOf(decide(firing('am:b', { labels: fromJson({ alertname: 'x', own: 'b' }) }), undefined, rules).events)).toMatchObject({ channel: '#b' });
  });

  test('a pager alias template {{ labels.constructor }} takes an absent label as absent: the incident pages under its own alias', () => {
    const rules = rulesOf(`defaults:\n  slack: { channel: "#alerts" }\n  pager: { priority: P3, alias: "team-{{ labels.constructor }}" }\n`);
    const d = decide(firing('am:x', { labels: { alertname: 'x' } }), undefined, rules);
    expect((d.state as AliasState).pagerAlias).toBe('am:x');
    const own = decide(firing('am:y', { labels: fromJson({ alertname: 'x', constructor: 'db' }) }), undefined, rules);
    expect((own.state as AliasState).pagerAlias).toBe('pager:team-db');
  });
});

describe('a silence matching on a label name every object answers to', () => {
  const iso = (at: number) => new Date(T0 + at).toISOString();
  const silence = (matchers: string[]) =>
    makeEnvelope({
      id: deriveId('silence', matchers.join(','), 'created'),
      type: 'SilenceCreated',
      alias: 'silence:s1',
      occurredAt: iso(-HOUR),
      recordedAt: iso(-HOUR),
      source: 'history-api',
      data: { silenceId: 's1', matchers, startsAt: iso(-HOUR), endsAt: iso(HOUR), createdBy: 'ana', comment: 'test', kind: 'silence' as const },
    });
  const rules = rulesOf('defaults:\n  slack: { channel: "#alerts" }\n  pager: { enabled: false }\n');
  const decideWith = (matchers: string[], labels: Record<string, string>) => {
    const book = new SilenceBook();
    book.apply(silence(matchers));
    return new Replayer(rules, { silences: book }).decide(firing('am:x', { labels }));
  };

  test.each(['toString', 'constructor', '__proto__'])('%s=~"skip.*" silences nothing, and the alert opens an incident', (name) => {
    expect(decideWith([`${name}=~"skip.*"`], { alertname: 'x' }).events.map(brief)).toEqual(['IncidentOpened:first-notification', 'PostSlackMessage:root:#alerts']);
  });

  test.each(['toString', 'constructor', '__proto__'])('%s="" with alertname="x" silences an alert without that label', (name) => {
    expect(decideWith([`${name}=""`, 'alertname="x"'], { alertname: 'x' }).events.map(brief)).toEqual(['EventSuppressed:silenced']);
  });

  test('constructor="a" silences an alert whose labels hold constructor: a', () => {
    expect(decideWith(['constructor="a"'], fromJson({ alertname: 'x', constructor: 'a' })).events.map(brief)).toEqual(['EventSuppressed:silenced']);
  });
});

describe('inhibition with a label name every object answers to in `equal`', () => {
  const rules = rulesOf(
    `defaults:\n  slack: { channel: "#alerts" }\n  pager: { enabled: false }\ninhibit:\n  - source_match: ['severity="critical"']\n    target_match: ['severity="warning"']\n    equal: [constructor]\n`,
  );
  const crit = (labels: Record<string, string>) => firing('am:A', { severity: 'critical', labels });
  const warn = (labels: Record<string, string>) => firing('am:B', { at: MINUTE, severity: 'warning', labels });
  const outcome = (source: Record<string, string>, target: Record<string, string>) => {
    const r = new Replayer(rules);
    r.decide(crit(source));
    return r.decide(warn(target)).events.map(brief);
  };

  test('an empty constructor label and none are equal, as for any label', () => {
    expect(outcome(fromJson({ alertname: 'x', constructor: '' }), { alertname: 'x' })).toEqual(['EventSuppressed:inhibited']);
  });

  test('different constructor labels are not equal; the same are', () => {
    expect(outcome(fromJson({ constructor: 'a' }), fromJson({ constructor: 'b' }))).toEqual(['IncidentOpened:first-notification', 'PostSlackMessage:root:#alerts']);
    expect(outcome(fromJson({ constructor: 'a' }), fromJson({ constructor: 'a' }))).toEqual(['EventSuppressed:inhibited']);
  });
});

describe('names every object answers to, elsewhere than labels', () => {
  test('a label named __proto__ is a pager detail like any other', () => {
    const details = pagerDetails(fromJson({ own: 'x', team: 'db' }), { incident: 'i-1' });
    expect(Object.keys(details)).toEqual(['incident', '__proto__', 'team']);
    expect(JSON.parse(JSON.stringify(details))).toEqual(JSON.parse('{"incident":"i-1","__proto__":"x","team":"db"}'));
  });

  test('a reply template naming {{constructor}} keeps it as written, as any name its pattern lacks', () => {
    expect(renderReply('{{constructor}} {{toString}} {{x}}', { x: 'one' }, undefined)).toBe('{{constructor}} {{toString}} one');
  });

  test('@constructor is an unknown user group, not Object', () => {
    expect(mentionMarkup('@constructor', {})).toEqual({ ok: false, error: expect.stringMatching(/^unknown user group @constructor/) });
  });
});
