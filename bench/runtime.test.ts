import { benchRuntime, runtimeLabel } from './runtime';

const root = `${__dirname}/..`;

test('the services run from TypeScript unless BENCH_RUNTIME asks for the compiled output', () => {
  expect(benchRuntime(root, {})).toBe('source');
  expect(benchRuntime(root, { BENCH_RUNTIME: '' })).toBe('source');
  expect(benchRuntime(root, { BENCH_RUNTIME: 'source' })).toBe('source');
  expect(runtimeLabel('source')).toMatch(/as npm start runs them/);
  expect(runtimeLabel('dist')).toMatch(/as the image runs them/);
});

test('a BENCH_RUNTIME other than source or dist is refused, naming both', () => {
  expect(() => benchRuntime(root, { BENCH_RUNTIME: 'compiled' })).toThrow(/BENCH_RUNTIME is "compiled": it must be "source" .* or "dist"/);
});
