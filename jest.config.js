/**
 * Tests by tier, by suffix: *.test.ts (pure), *.int.test.ts (real Kafka + Postgres), *.e2e.test.ts (whole stack),
 * *.faults.test.ts (the whole stack through outages and crashes: `npm run test:faults`), *.scale.test.ts (`npm run test:scale`).
 */
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  // dist/: what `npm run build` compiles for the image (test/e2e/dist-build.e2e.test.ts builds it).
  testPathIgnorePatterns: ['/node_modules/', '/kafka/lib/', '<rootDir>/(schemas|cli|packages/[^/]+|services/[^/]+)/dist/'],
};

/** Only the tiers that talk to Kafka start the broker (once per run: the setup is a no-op the second time). */
const withKafka = {
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
};

module.exports = {
  // Two files at a time on 2 cores. Three were tried: with three whole stacks at once (scale test, fault files)
  // a service took over 120 s to start on a busy machine. `npm test` (scripts/test-run.ts) runs the integration and
  // unit tiers three at a time, after the whole-stack tiers.
  maxWorkers: 2,
  // Longest first (the scale test and the fault suite lead), so no worker ends the run alone on a long file.
  testSequencer: '<rootDir>/test/sequencer.cjs',
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/**/*.test.ts'],
      testPathIgnorePatterns: [...common.testPathIgnorePatterns, '\\.int\\.test\\.ts$', '\\.e2e\\.test\\.ts$', '\\.faults\\.test\\.ts$', '\\.scale\\.test\\.ts$'],
    },
    { ...common, ...withKafka, displayName: 'int', testMatch: ['<rootDir>/**/*.int.test.ts'], slowTestThreshold: 30 },
    { ...common, ...withKafka, displayName: 'e2e', testMatch: ['<rootDir>/**/*.e2e.test.ts'], slowTestThreshold: 60 },
    { ...common, ...withKafka, displayName: 'faults', testMatch: ['<rootDir>/**/*.faults.test.ts'], slowTestThreshold: 300 },
    // The stack scaled out, killed and grown under 2,000 alerts: `npm run test:scale`, run last by `npm test` (minutes).
    { ...common, ...withKafka, displayName: 'scale', testMatch: ['<rootDir>/**/*.scale.test.ts'], slowTestThreshold: 600 },
  ],
};
