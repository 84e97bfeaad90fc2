// Lets Node and mocha load the TypeScript sources directly: each .ts file is transformed by esbuild
// with the `node` profile's compile-time flags (tools/build/profiles.json), so the tests see the
// same code the Node build bundles. Type checking is separate (`npm run typecheck`).
const fs = require('fs');
const esbuild = require('esbuild');
const define = require('./build/profiles.json').node;

require.extensions['.ts'] = function loadTypeScript(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { code } = esbuild.transformSync(source, {
    loader: 'ts', format: 'cjs', target: 'node20', define, sourcemap: 'inline', sourcefile: filename,
  });
  module._compile(code, filename);
};
