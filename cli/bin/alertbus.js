#!/usr/bin/env node
// In a checkout the CLI runs from its TypeScript sources (tsx, a dev dependency). Where only production
// dependencies are installed (the image), it runs the compiled dist/; the workspace packages it imports then
// resolve to their dist/ under Node's `production` condition, which the image sets in NODE_OPTIONS.
let tsx;
try {
  tsx = require.resolve('tsx/cjs');
} catch {
  tsx = undefined;
}
if (tsx) {
  require(tsx);
  require('../src/main.ts');
} else {
  require('../dist/main.js');
}
