// The Espruino pipeline: bundle, lower to ES5, minify. Three tools because no single one does all:
// esbuild bundles, applies the profile flags and tree-shakes, but refuses to lower let/const, classes
// or for-of to ES5; TypeScript 5.9's transpileModule still emits ES5 (TypeScript 7 dropped it); and
// esbuild then minifies the ES5 text, which costs the board JsVars in proportion to its length.
import { tokenizer, type Token } from 'acorn';
import * as esbuild from 'esbuild';
import * as ts from 'typescript';

export type Defines = { [flag: string]: string };

/**
 * The minified ES5 bundle of a firmware entry, built with a profile's compile-time flags. A module
 * (loaded by require(), which already runs it in a scope of its own) loses the bundle's wrapper: the
 * wrapper lets the minifier shorten top-level names, but left in place it puts every function two
 * scopes deep, which costs each of them scope-link JsVars on the board (130-210 per library, measured).
 * The firmware image keeps it: it runs at the top level of the REPL, where its names would be globals.
 */
export function buildForEspruino(entry: string, define: Defines, asModule = false): string {
  const code = minifyES5(lowerToES5(bundle(entry, define), entry));
  return asModule ? unwrap(code) : code;
}

const WRAPPER_HEAD = '(function(){', WRAPPER_TAIL = '})();';

/** The body of the minified wrapper the banner and footer made. */
function unwrap(code: string): string {
  const text = code.trim();
  if (!text.startsWith(WRAPPER_HEAD) || !text.endsWith(WRAPPER_TAIL)) throw new Error('minified bundle lost its wrapper');
  return text.slice(WRAPPER_HEAD.length, -WRAPPER_TAIL.length) + '\n';
}

/**
 * The length of the bundle's lines, in characters. An exception's stack on Espruino holds the whole
 * source line it was thrown on, copied into RAM even when it is caught: with the bundle on one line, one
 * caught throw at boot took 1,321 JsVars for an 18 KB image (and ran the 4,095 build out of memory).
 * Short lines cost a byte each and bound that copy.
 */
export const MAX_LINE = 100;

/**
 * Breaks minified code into lines of about `max` characters, between two tokens where a newline never
 * changes the meaning: not after return, throw, break or continue, and not before ++ or -- (the
 * places where a newline inserts a semicolon). Not esbuild's lineLimit: it also splits string literals
 * with a backslash-newline, which Espruino 2v29 reads as a newline in the string.
 */
export function breakLines(code: string, max: number): string {
  let out = '', from = 0, lineStart = 0, last: Token | null = null;
  for (const token of tokenizer(code, { ecmaVersion: 5 })) {
    if (last && last.end - lineStart > max && NO_BREAK_AFTER.indexOf(last.type.label) < 0 && token.type.label !== '++/--') {
      out += code.slice(from, last.end) + '\n';
      from = token.start;
      lineStart = last.end;
    }
    last = token;
  }
  return out + code.slice(from);
}

const NO_BREAK_AFTER = ['return', 'throw', 'break', 'continue'];

/** Espruino's built-in modules: left as require() calls for the interpreter to resolve. */
export const ESPRUINO_MODULES = ['net', 'tls', 'http', 'Storage', 'Wifi', 'ESP32', 'ESP8266', 'crypto', 'fs', 'dgram', 'Flash', 'neopixel', 'heatshrink'];

/**
 * One ES2017 script, flags replaced by literals so tree shaking drops the other profiles' code.
 * Format cjs, not iife: an entry that assigns to the free `exports` (firmware/lib.ts) is then left
 * at top level, while iife would wrap it in esbuild's __commonJS shim and fill a private object.
 * The banner and footer then make it a closure, so the minifier may rename its top-level names.
 * minifySyntax here, while they are still `const`, lets esbuild inline the protocol constants
 * (`CONNECT = 1`) at their uses across modules; after lowering they are `var`s it must keep.
 * tsconfigRaw pins what esbuild would otherwise take from the nearest tsconfig.json: class fields
 * as plain assignments, and no "use strict" (Espruino ignores it; it only costs bytes).
 */
function bundle(entry: string, define: Defines): string {
  const result = esbuild.buildSync({
    entryPoints: [entry], bundle: true, write: false, format: 'cjs', target: 'es2017',
    platform: 'neutral', external: ESPRUINO_MODULES, treeShaking: true, minifySyntax: true, define, logLevel: 'error',
    mangleProps: /^_[a-z]/, // private members (firmware names them _x): short names cost the board fewer JsVars
    banner: { js: '(function () {' }, footer: { js: '})();' },
    tsconfigRaw: { compilerOptions: { useDefineForClassFields: false, alwaysStrict: false } },
  });
  return result.outputFiles[0].text;
}

/**
 * ES2017 → ES5. The input is a script (a closure, no import or export), so module CommonJS emits no
 * wrapper; it is set only because transpileModule forces isolatedModules, which rejects ES5 with no
 * module kind. Helpers
 * (__extends, __assign) are inlined, not imported: there is no tslib on a board. downlevelIteration
 * stays off, since its helpers read Symbol.iterator; plain for-of over arrays lowers to an index loop.
 */
function lowerToES5(code: string, entry: string): string {
  const out = ts.transpileModule(code, {
    fileName: 'bundle.js',
    reportDiagnostics: true,
    compilerOptions: {
      target: ts.ScriptTarget.ES5, module: ts.ModuleKind.CommonJS, allowJs: true,
      importHelpers: false, downlevelIteration: false, removeComments: true,
    },
  });
  const errors = (out.diagnostics || []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) {
    const text = errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n');
    throw new Error(`lowering ${entry} to ES5 failed:\n${text}`);
  }
  return out.outputText;
}

/** Minify only: target es5 makes esbuild keep the output ES5 instead of "improving" it to newer syntax. */
function minifyES5(code: string): string {
  return breakLines(esbuild.transformSync(code, { minify: true, target: 'es5', logLevel: 'error' }).code, MAX_LINE);
}
