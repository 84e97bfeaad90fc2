// `npm run build`: every artefact of the project, then the Espruino bundles are checked against the
// interpreter's limits and their size budget. Exits non-zero on any violation, so CI stops there.
import * as esbuild from 'esbuild';
import * as fs from 'fs';
import * as path from 'path';
import budgets from './budget.json';
import { checkBundle, checkSize, type Budget } from './check-bundle';
import { buildForEspruino } from './espruino';
import limits from './function-limits.json';
import { checkFunctionSizes, measureFunctions } from './function-size';
import profiles from './profiles.json';

const ROOT = path.resolve(__dirname, '../..');
const DIST = path.join(ROOT, 'dist');
const at = (p: string) => path.join(ROOT, p);

/** Firmware entries bundled for the board, by output name. */
const ESPRUINO_ENTRIES: { [name: string]: string } = {
  'sparrow-mqtt': 'firmware/lib.ts', firmware: 'firmware/main.ts', 'sparrow-serial': 'firmware/serial-lib.ts',
  'sparrow-ws': 'firmware/ws-lib.ts',
};
const ESPRUINO_PROFILES = ['small', 'full'] as const;

function main(): void {
  fs.rmSync(DIST, { recursive: true, force: true });
  const failures = buildEspruino().concat(checkFunctions());
  buildNode();
  buildBrowser();
  if (failures.length > 0) {
    for (const f of failures) console.error(f);
    process.exitCode = 1;
  }
}

/** Builds, checks and measures each firmware bundle; prints the size table; returns the violations. */
function buildEspruino(): string[] {
  fs.mkdirSync(path.join(DIST, 'espruino'), { recursive: true });
  const failures: string[] = [];
  const rows: string[][] = [['file', 'minified', 'gzip', 'JsVars', 'budget (min/gz)', 'verdict']];
  for (const profile of ESPRUINO_PROFILES) {
    for (const name of Object.keys(ESPRUINO_ENTRIES)) {
      const file = `${name}.${profile}.js`;
      const code = buildForEspruino(at(ESPRUINO_ENTRIES[name]), profiles[profile], name !== 'firmware');
      fs.writeFileSync(path.join(DIST, 'espruino', file), code);
      const budget = (budgets as { [file: string]: Budget | undefined })[file];
      const size = checkSize(code, file, budget);
      const violations = checkBundle(code, file).concat(size.violations);
      failures.push(...violations);
      rows.push([file, String(size.minified), String(size.gzip), String(size.jsVars),
        budget ? `${budget.minified}/${budget.gzip}` : '-', violations.length ? 'FAIL' : 'ok']);
    }
  }
  console.log(table(rows));
  return failures;
}

/** Holds every function in firmware/ and broker/ to the length and complexity limits; prints the largest. */
function checkFunctions(): string[] {
  const sizes = measureFunctions(ROOT, ['firmware', 'broker']);
  const longest = sizes.reduce((a, b) => (b.lines > a.lines ? b : a));
  const knottiest = sizes.reduce((a, b) => (b.complexity > a.complexity ? b : a));
  console.log(`functions in firmware/ and broker/: ${sizes.length}, limits ${limits.lines} lines and complexity ${limits.complexity}`
    + ` (${Object.keys(limits.ceilings).length} older ones held at their size); longest ${longest.lines} lines (${longest.where}),`
    + ` most complex ${knottiest.complexity} (${knottiest.where})`);
  return checkFunctionSizes(sizes, limits);
}

/** The `sparrow` command, the benchmark, and the package's main module (codec + client on Node). */
function buildNode(): void {
  const common: esbuild.BuildOptions = {
    bundle: true, platform: 'node', target: 'node20', format: 'cjs', define: profiles.node, packages: 'external', logLevel: 'error',
  };
  const cli = path.join(DIST, 'node', 'sparrow.js');
  esbuild.buildSync({ ...common, entryPoints: [at('tools/cli/main.ts')], outfile: cli, banner: { js: '#!/usr/bin/env node' } });
  fs.chmodSync(cli, 0o755);
  if (fs.existsSync(at('tools/bench/index.ts'))) {
    esbuild.buildSync({ ...common, entryPoints: [at('tools/bench/index.ts')], outfile: path.join(DIST, 'node', 'bench.js') });
  }
  esbuild.buildSync({ ...common, entryPoints: [at('host-sim/node-api.ts')], outfile: path.join(DIST, 'node', 'sparrow-mqtt.js') });
}

/** The codec for the dashboard page, as the global `SparrowMQTT`, with every feature on (the host profile); and the page's script. */
function buildBrowser(): void {
  esbuild.buildSync({
    entryPoints: [at('firmware/mqtt/index.ts')], outfile: path.join(DIST, 'browser', 'sparrow-mqtt.js'), bundle: true,
    platform: 'browser', format: 'iife', globalName: 'SparrowMQTT', minify: true, target: 'es2018', define: profiles.node, logLevel: 'error',
  });
  // the broker's dashboard page; it uses the codec above and uPlot as globals (type imports only)
  esbuild.buildSync({
    entryPoints: [at('broker/dashboard/app.ts')], outfile: path.join(DIST, 'browser', 'dashboard.js'), bundle: true,
    platform: 'browser', format: 'iife', minify: true, target: 'es2018', logLevel: 'error',
  });
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n');
}

main();
