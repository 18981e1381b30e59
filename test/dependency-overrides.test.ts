/**
 * The overrides in package.json keep known-vulnerable packages out of the tree (README, "Dependency overrides"):
 * checked on the lock file, which is what `npm ci` installs, and on what this checkout resolves.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const root = resolve(__dirname, '..');
const lock = JSON.parse(readFileSync(resolve(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { name?: string; version?: string }>;
};

/** Every copy of a package in the lock, wherever it is nested. */
const copies = (name: string) =>
  Object.entries(lock.packages)
    .filter(([path]) => path === `node_modules/${name}` || path.endsWith(`/node_modules/${name}`))
    .map(([path, p]) => ({ path, name: p.name ?? name, version: p.version! }));

const atLeast = (version: string, floor: string) => {
  const [a, b] = [version, floor].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) if (a![i] !== b![i]) return a![i]! > b![i]!;
  return true;
};

test('request is @cypress/request (CVE-2023-28155 fixed since 3.0.0), in the lock and for requestretry at run time', () => {
  const requests = copies('request');
  expect(requests.length).toBeGreaterThan(0);
  for (const r of requests) {
    expect(r.name).toBe('@cypress/request');
    expect(atLeast(r.version, '3.0.0')).toBe(true);
  }
  // What opsgenie-sdk's requestretry actually loads.
  const fromRequestRetry = require.resolve('request/package.json', { paths: [dirname(require.resolve('requestretry'))] });
  expect((JSON.parse(readFileSync(fromRequestRetry, 'utf8')) as { name: string }).name).toBe('@cypress/request');
});

test('every form-data is 4.0.4 or later (CVE-2025-7783) and every tough-cookie 4.1.3 or later (CVE-2023-26136)', () => {
  const formData = copies('form-data');
  const toughCookie = copies('tough-cookie');
  expect(formData.length).toBeGreaterThan(0);
  expect(toughCookie.length).toBeGreaterThan(0);
  expect(formData.filter((p) => !atLeast(p.version, '4.0.4'))).toEqual([]);
  expect(toughCookie.filter((p) => !atLeast(p.version, '4.1.3'))).toEqual([]);
});
