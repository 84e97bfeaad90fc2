// `npm run build:types` (and `npm pack`, through prepack): the TypeScript declarations of the package's
// Node main, emitted from its sources into dist/types/, so they cannot drift from the code. The board's
// `require("sparrow-mqtt")` has hand-written ambient declarations instead (types/espruino.d.ts): the
// bundle's exports are plain assignments that the compiler cannot see as a module.
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '../..');

/** Writes the declarations of host-sim/node-api.ts and what it imports under `outDir`; returns the errors. */
export function emitDeclarations(outDir: string): string[] {
  const program = ts.createProgram([path.join(ROOT, 'host-sim/node-api.ts'), path.join(ROOT, 'firmware/profile.d.ts')], {
    declaration: true, emitDeclarationOnly: true, outDir, rootDir: ROOT, strict: true, types: ['node'], skipLibCheck: true,
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, esModuleInterop: true, resolveJsonModule: true,
  });
  const { diagnostics } = program.emit();
  return ts.getPreEmitDiagnostics(program).concat(diagnostics).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

if (require.main === module) {
  const errors = emitDeclarations(path.join(ROOT, 'dist', 'types'));
  for (const e of errors) console.error(e);
  if (errors.length) process.exitCode = 1;
}
