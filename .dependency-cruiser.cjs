/**
 * The layers of the tree, checked by `npm run lint:deps` (run by `npm test`, so CI fails on a break):
 *   schemas ← packages/* ← services/* and cli/ ; services never import each other; no workspace cycles.
 * Services are reached from outside as processes (test/support/stack.ts, test/support/cli.ts), not imported.
 *
 * Each exemption is one file and the targets it may reach, with why. A file named here may reach only
 * those targets; everything else it imports is checked as usual.
 */
const EXEMPTIONS = [
  // The pager sink's outage test runs the Slack sink beside it in one process, to show that a pager outage
  // holds back pages while Slack goes on; it starts that sink through its public entry only.
  { rule: 'no-service-imports-another-service', from: '^services/opsgenie-sink/src/outage\\.int\\.test\\.ts$', to: '^services/(opsgenie-sink/|slack-sink/src/index\\.ts$)' },
];

/** A rule over `from` → `to`, and for each file exempted from it the same rule minus the targets named for it. */
function layer(name, comment, from, to) {
  const exempt = EXEMPTIONS.filter((e) => e.rule === name);
  return [
    { name, comment, severity: 'error', from: { ...from, pathNot: exempt.map((e) => e.from) }, to },
    ...exempt.map((e) => ({ name, comment: `${comment} (exempted: ${e.to})`, severity: 'error', from: { path: e.from }, to: { ...to, pathNot: e.to } })),
  ];
}

module.exports = {
  forbidden: [
    ...layer(
      'no-package-imports-a-service',
      'schemas, packages/* and the CLI are what services are made of; they import no service (the CLI talks to history over its API).',
      { path: '^(schemas|packages|cli)/' },
      { path: '^services/' },
    ),
    ...layer(
      'no-service-imports-another-service',
      'A service uses another only through Kafka or HTTP; what two services share belongs in packages/.',
      { path: '^services/([^/]+)/' },
      { path: '^services/', pathNot: '^services/$1/' },
    ),
    ...layer(
      'no-test-imports-service-internals',
      'The top-level tests start services as processes (test/support/stack.ts) and run the CLI as one (test/support/cli.ts).',
      { path: '^test/' },
      { path: '^services/' },
    ),
    {
      name: 'no-circular-between-workspaces',
      comment: 'A cycle that leaves a workspace and comes back: the two workspaces can no longer be layered.',
      severity: 'error',
      from: { path: '^(schemas|cli|packages/[^/]+|services/[^/]+)/' },
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
