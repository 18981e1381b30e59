import { entryArgs, portOf, serviceDef, serviceProcess } from './services';

describe("the router's process", () => {
  const router = serviceDef('router');

  it("starts with glibc's malloc tuning and V8's young generation bounded, before its entry point", () => {
    const spec = serviceProcess(router, { root: '/app', env: { PATH: '/bin' }, port: 8082 });
    expect(spec.env).toMatchObject({ MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_ARENA_MAX: '2', PATH: '/bin', ROUTER_PORT: '8082' });
    for (const runtime of ['source', 'dist'] as const) {
      const args = entryArgs(router, '/app', runtime);
      expect(args.indexOf('--max-semi-space-size=8')).toBeGreaterThanOrEqual(0);
      expect(args.indexOf('--max-semi-space-size=8')).toBeLessThan(args.length - 1);
    }
  });

  it("leaves a variable the caller's environment sets as it is, and the other services' processes untouched", () => {
    const spec = serviceProcess(router, { root: '/app', env: { MALLOC_ARENA_MAX: '4' }, port: 8082 });
    expect(spec.env.MALLOC_ARENA_MAX).toBe('4');
    const history = serviceProcess(serviceDef('history'), { root: '/app', env: {}, port: 8081 });
    expect(history.env).toEqual({ HISTORY_PORT: '8081' });
    expect(history.args).toEqual(['--import', 'tsx', '/app/services/history/src/main.ts']);
  });
});

describe("the sinks' processes", () => {
  it.each(['slack-sink', 'opsgenie-sink'] as const)('%s starts with a bounded old space, before its entry point', (name) => {
    for (const runtime of ['source', 'dist'] as const) {
      const args = entryArgs(serviceDef(name), '/app', runtime);
      expect(args.indexOf('--max-old-space-size=256')).toBeGreaterThanOrEqual(0);
      expect(args.indexOf('--max-old-space-size=256')).toBeLessThan(args.length - 1);
    }
  });
});

describe("ingest's process", () => {
  it('starts with V8\'s young generation and old space bounded, before its entry point', () => {
    const spec = serviceProcess(serviceDef('ingest'), { root: '/app', env: {}, port: 8080 });
    expect(spec.env).toEqual({ INGEST_PORT: '8080' });
    expect(spec.args).toEqual(['--max-semi-space-size=8', '--max-old-space-size=256', '--import', 'tsx', '/app/services/ingest/src/main.ts']);
    expect(entryArgs(serviceDef('ingest'), '/app', 'dist')).toEqual([
      '--max-semi-space-size=8',
      '--max-old-space-size=256',
      '--conditions=production',
      '/app/services/ingest/dist/main.js',
    ]);
  });
});

describe("a service's port", () => {
  test('is its variable, else its default', () => {
    expect(portOf(serviceDef('history'), {})).toBe(serviceDef('history').defaultPort);
    expect(portOf(serviceDef('history'), { [serviceDef('history').portVar]: '18081' })).toBe(18081);
  });

  test.each(['18o81', '0', '65536', '8081.5', '-1', ' 8081'])('%j is refused naming the variable', (raw) => {
    const def = serviceDef('history');
    expect(() => portOf(def, { [def.portVar]: raw })).toThrow(`${def.portVar} must be a port from 1 to 65535 (npm start waits for each service on its port), got ${JSON.stringify(raw)}`);
  });
});
