/** An empty rules file is a truncated one (an editor or `cp` mid-write), not a wish for no rules. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compileRules } from './compile';
import { loadRules, RulesError } from './load';

const opts = { defaultChannel: '#alerts' };

describe('a rules file that states nothing is refused, naming the file', () => {
  test.each([
    ['empty', ''],
    ['whitespace', '  \n\n\t\n'],
    ['comments only', '# routing for every team\n# (being rewritten)\n'],
    ['a document marker only', '---\n'],
    ['an explicit null', '~\n'],
  ])('%s', (_, text) => {
    const r = compileRules(text, '/etc/alertbus/rules.yaml', opts);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message).toBe('/etc/alertbus/rules.yaml is empty: no rules; the previous rules stay in force (to route everything by the defaults, write `rules: []`)');
    expect(r.problems).toEqual([{ path: '(file)', message: expect.stringContaining('is empty: no rules') }]);
  });

  test('at start: loadRules throws a RulesError with that message', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'empty-rules-')), 'rules.yaml');
    writeFileSync(file, '# nothing yet\n');
    expect(() => loadRules(file, opts)).toThrow(RulesError);
    expect(() => loadRules(file, opts)).toThrow(`${file} is empty: no rules`);
  });
});

describe('a file that states something stays valid', () => {
  test.each([
    ['rules: [] explicitly', 'rules: []\n'],
    ['defaults only', 'defaults:\n  slack: { channel: "#ops" }\n'],
    ['an empty mapping', '{}\n'],
  ])('%s', (_, text) => {
    const r = compileRules(text, 'rules.yaml', opts);
    if (!r.ok) throw new Error(r.message);
    expect(r.rules.rules).toHaveLength(0);
  });
});
