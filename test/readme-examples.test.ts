/** The README's examples stay true: the sample rules file validates and routes the sample alert. */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(__dirname, '..');
const alertbus = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', resolve(root, 'cli/src/main.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
  });

test('examples/rules.yaml (the README rules example) passes `alertbus rules check`', () => {
  const r = alertbus('rules', 'check', 'examples/rules.yaml');
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/OK/);
});

test('`alertbus rules test` routes the README sample alert to #alerts and the pager', () => {
  const r = alertbus('rules', 'test', 'examples/rules.yaml', '--alert', 'examples/alertmanager-firing.json');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/PostSlackMessage root → #alerts/);
  expect(r.stdout).toMatch(/CreatePagerAlert P1 alias "alertmanager:5f1a9c0d2b3e4f60"/);
});
