// What `npm pack` ships and what an installer gets: only the built package (no tests, sources or CI
// files), every file package.json points at, and declarations that type-check a user's script.
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.join(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

describe('the npm package', function () {
  this.timeout(120000);
  let files: string[];
  before(() => {
    // dist/ comes from `npm run build` (the test script's pretest); the declarations are prepack's other half
    execFileSync('npm', ['run', '--silent', 'build:types'], { cwd: ROOT, stdio: 'pipe' });
    const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' }));
    files = packed.files.map((f: { path: string }) => f.path);
  });

  it('is publishable, and prepack builds dist/ with its declarations', () => {
    assert.equal(pkg.private, undefined);
    assert.equal(pkg.scripts.prepack, 'npm run build && npm run build:types');
  });

  it('ships the built package only: no tests, sources, tools or CI files', () => {
    const stray = files.filter((f) => /^(test|tools|firmware|host-sim|\.ci|node_modules)\//.test(f) || f === 'broker/broker.ts' || f.endsWith('.test.ts'));
    assert.deepEqual(stray, []);
    assert.ok(files.length < 60, files.length + ' files');
    for (const f of ['README.md', 'package.json', 'dist/node/sparrow.js', 'dist/node/sparrow-mqtt.js', 'types/espruino.d.ts',
      'dist/espruino/sparrow-mqtt.small.js', 'dist/espruino/sparrow-mqtt.full.js', 'dist/espruino/firmware.full.js',
      'dist/browser/dashboard.js', 'broker/dashboard/index.html', 'examples/node/pubsub.js', 'examples/board/sketch.js']) {
      assert.ok(files.includes(f), f + ' is shipped');
    }
  });

  it('ships every file package.json names: main, types, bin and exports', () => {
    const named: string[] = [pkg.main, pkg.types, ...Object.values(pkg.bin) as string[]];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') named.push(v);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(pkg.exports);
    for (const target of named.map((n) => n.replace(/^\.\//, ''))) {
      const pattern = new RegExp('^' + target.replace(/[.]/g, '\\.').replace('*', '.+') + '$');
      assert.ok(files.some((f) => pattern.test(f)), target + ' is in the package');
    }
  });

  it('its declarations type-check the Node example as `require("sparrow-mqtt")` resolves for a user', () => {
    const program = ts.createProgram([path.join(ROOT, 'examples/node/pubsub.js')], {
      allowJs: true, checkJs: true, noEmit: true, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16,
      target: ts.ScriptTarget.ES2022, types: ['node'], skipLibCheck: true,
    });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    assert.deepEqual(errors, []);
    // the package's own name resolved through "exports" to the shipped declarations
    assert.ok(program.getSourceFiles().some((f) => f.fileName === path.join(ROOT, 'dist/types/host-sim/node-api.d.ts')));
  });
});
