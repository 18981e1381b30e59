#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so the workspace needs no build step.
require('tsx/cjs');
require('../src/main.ts');
