/**
 * Jest transform for the few ES-module-only packages among the dependencies (@platformatic/kafka and its own
 * @platformatic packages): Node 20 loads them with require() itself, Jest's module registry does not, so they are
 * compiled to CommonJS for the tests. A module's own `require` made with createRequire(import.meta.url) is CommonJS's
 * `require` already; any other `import.meta.url` becomes the file's URL.
 */
const { createHash } = require('node:crypto');
const ts = require('typescript');

module.exports = {
  getCacheKey(source, path) {
    return createHash('sha256').update('esm-to-cjs-2\0').update(path).update('\0').update(source).digest('hex');
  },
  process(source, path) {
    const withUrl = source
      .replace(/\b(?:const|let) require = createRequire\(import\.meta\.url\);/g, '')
      .replace(/\bimport\.meta\.url\b/g, "require('node:url').pathToFileURL(__filename).href");
    const out = ts.transpileModule(withUrl, {
      fileName: path,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, allowJs: true, esModuleInterop: true },
    });
    return { code: out.outputText };
  },
};
