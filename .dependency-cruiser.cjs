/**
 * The layers of the tree, checked by `npm run lint:deps` (run by `npm test`, so CI fails on a break):
 *   schemas ← packages/* ← services/* and cli/ ; services never import each other; no workspace cycles.
 * Services are reached from outside as processes (test/support/stack.ts, test/support/cli.ts), not imported.
 *
 * The exemptions below are each one file and one target, named, with the reason. The `rules` command of the
 * CLI and test/deploy still use the router's and ingest's rule and payload code until it moves to
 * @alertbus/routing and @alertbus/normalise; those entries go when it does.
 */
const WORKSPACE = '^(schemas|cli|packages/[^/]+|services/[^/]+)/';

/** Waiting for @alertbus/routing and @alertbus/normalise. */
const PENDING_PACKAGES = [
  { from: '^cli/src/commands/rules\\.ts$', to: '^services/(router|ingest)/src/index\\.ts$' },
  { from: '^cli/src/commands/rules\\.test\\.ts$', to: '^services/router/src/test-support/alerts\\.ts$' },
  { from: '^test/deploy/deploy\\.test\\.ts$', to: '^services/router/src/rules/(compile|route)\\.ts$' },
  { from: '^services/ingest/src/normalise/group-once\\.test\\.ts$', to: '^services/(ingest/|router/src/(rules/load|core/decider)\\.ts$)' },
];

const pending = (prefix) => PENDING_PACKAGES.filter((p) => p.from.startsWith(prefix));
const pendingFrom = (prefix) => pending(prefix).map((p) => p.from);
/** Each pending file may reach its one named target in services/, and no other. */
const pendingRules = (name, prefix) =>
  pending(prefix).map(({ from, to }) => ({
    name,
    comment: 'pending @alertbus/routing and @alertbus/normalise: only the named target is allowed',
    severity: 'error',
    from: { path: from },
    to: { path: '^services/', pathNot: to },
  }));

module.exports = {
  forbidden: [
    {
      name: 'no-package-imports-a-service',
      comment:
        'schemas, packages/* and the CLI are what services are made of; they import no service (the CLI talks to ' +
        'history over its API through @alertbus/history-client).',
      severity: 'error',
      from: { path: '^(schemas|packages|cli)/', pathNot: pendingFrom('^cli/') },
      to: { path: '^services/' },
    },
    ...pendingRules('no-package-imports-a-service', '^cli/'),
    {
      name: 'no-service-imports-another-service',
      comment: 'A service uses another only through Kafka or HTTP; what two services share belongs in packages/.',
      severity: 'error',
      from: {
        path: '^services/([^/]+)/',
        // The pager sink's outage test runs the Slack sink beside it in one process, to show that a pager
        // outage holds back pages while Slack goes on; it starts it through its public entry only.
        pathNot: ['^services/opsgenie-sink/src/outage\\.int\\.test\\.ts$', ...pendingFrom('^services/')],
      },
      to: { path: '^services/', pathNot: '^services/$1/' },
    },
    ...pendingRules('no-service-imports-another-service', '^services/'),
    {
      name: 'no-test-imports-service-internals',
      comment:
        'The top-level tests start services as processes (test/support/stack.ts) and run the CLI as one ' +
        '(test/support/cli.ts); they import no service code.',
      severity: 'error',
      from: { path: '^test/', pathNot: pendingFrom('^test/') },
      to: { path: '^services/' },
    },
    ...pendingRules('no-test-imports-service-internals', '^test/'),
    {
      name: 'no-circular-between-workspaces',
      comment: 'A cycle that leaves a workspace and comes back: the two workspaces can no longer be layered.',
      severity: 'error',
      from: { path: WORKSPACE },
      to: { circular: true, viaSomeNot: '^$1' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing is a typo or a missing dependency; the rules above would miss it.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  allowed: undefined,
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['(^|/)dist/', '^kafka/lib/', '(^|/)node_modules/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['types', 'require', 'default'],
      extensions: ['.ts', '.js', '.json'],
      mainFields: ['types', 'main'],
    },
    skipAnalysisNotInRules: true,
  },
};
