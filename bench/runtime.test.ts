import { benchRuntime, runtimeLabel } from './runtime';

const root = '/checkout';

test('the services run from TypeScript, with nothing built, unless BENCH_RUNTIME asks for the compiled output', () => {
  const built: string[] = [];
  const build = (r: string) => void built.push(r);
  expect(benchRuntime(root, {}, build)).toBe('source');
  expect(benchRuntime(root, { BENCH_RUNTIME: '' }, build)).toBe('source');
  expect(benchRuntime(root, { BENCH_RUNTIME: 'source' }, build)).toBe('source');
  expect(built).toEqual([]);
  expect(runtimeLabel('source')).toMatch(/as npm start runs them/);
});

test('the compiled output is built in the checkout before it is run, so no stale output is measured', () => {
  const built: string[] = [];
  expect(benchRuntime(root, { BENCH_RUNTIME: 'dist' }, (r) => void built.push(r))).toBe('dist');
  expect(built).toEqual([root]);
  expect(runtimeLabel('dist')).toMatch(/as the image runs them/);
});

test('a BENCH_RUNTIME other than source or dist is refused, naming both, and nothing is built', () => {
  const built: string[] = [];
  expect(() => benchRuntime(root, { BENCH_RUNTIME: 'compiled' }, (r) => void built.push(r))).toThrow(
    /BENCH_RUNTIME is "compiled": it must be "source" .* or "dist"/,
  );
  expect(built).toEqual([]);
});
