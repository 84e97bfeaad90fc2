// The bundle check must reject each construct that breaks on Espruino (shared/ESPRUINO.md), in the
// shapes the build really produces, and let plain ES5 through; and the real bundles must pass it.
import { strict as assert } from 'assert';
import * as esbuild from 'esbuild';
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import budgets from '../tools/build/budget.json';
import { checkBundle, checkSize, type Budget } from '../tools/build/check-bundle';
import { breakLines, MAX_LINE } from '../tools/build/espruino';

const ROOT = path.resolve(__dirname, '..');

/** The rule names checkBundle reports for `code`. */
function rules(code: string): string[] {
  return checkBundle(code, 'fixture.js').map((v) => v.slice(0, v.indexOf(':')));
}

function rejects(code: string, rule: string): void {
  assert.ok(rules(code).includes(rule), `expected ${rule} for ${code}, got ${JSON.stringify(checkBundle(code, 'fixture.js'))}`);
}

/** What the build makes of `class X extends Base` in TypeScript: lowered to ES5, optionally minified. */
function lowered(source: string, minify: boolean): string {
  const es5 = ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES5, module: ts.ModuleKind.CommonJS } }).outputText;
  return minify ? esbuild.transformSync(`(function(){${es5}})();`, { minify: true, target: 'es5' }).code : es5;
}

describe('checkBundle', () => {
  it('passes plain ES5 with typed arrays, [].slice.call, and Map as a local or a property name', () => {
    const code = `var a = new Uint8Array(4); a.set([1], 0); var b = a.subarray(1); var list = [1, 2];
      exports.f = function (s) { var Map = 1; return s.Map + Map + [].slice.call(b).length + list.slice(1).length + "ab".slice(1) + a[0]; };
      exports.o = { Set: 1, Promise: 2 }; exports.net = require("net"); exports.i = a.indexOf(1);`;
    assert.deepEqual(checkBundle(code, 'clean.js'), []);
  });

  it('not-es5: rejects syntax ES5 lacks, with its position', () => {
    assert.deepEqual(checkBundle('var a = 1;\nlet b = 2;', 'x.js'), ['not-es5: Unexpected token at x.js:2:5']);
    for (const code of ['var f = () => 1;', 'const a = 1;', 'class A {}', 'var s = `t`;', 'for (var x of []) {}', 'var a = b ?? c;', 'var a = b?.c;',
      'var {a} = b;', 'f(...a);', 'function f(a = 1) {}', 'var o = {[k]: 1};', 'async function f() {}', 'function* g() {}']) {
      rejects(code, 'not-es5');
    }
  });

  it('missing-global: rejects globals Espruino lacks, only where they are free variables', () => {
    for (const name of ['Map', 'Set', 'WeakMap', 'WeakSet', 'Symbol', 'BigInt', 'Promise', 'Proxy', 'Reflect', 'TextEncoder',
      'TextDecoder', 'Buffer', 'RangeError', 'process', 'globalThis']) {
      rejects(`var x = ${name};`, 'missing-global');
    }
    assert.deepEqual(checkBundle('var m = new Map();', 'm.js'), ['missing-global: Map at m.js:1:13']);
    assert.deepEqual(rules('function f(Symbol) { return Symbol + x.Promise + {Set: 1}.Set; }'), []);
    // Espruino's process has memory() and env (MODULES), and nothing else Node code reaches for
    assert.deepEqual(rules('var free = process.memory().free, m = process.env.MODULES;'), []);
    for (const code of ['process.nextTick(f)', 'process.argv[2]', 'var p = process;', 'process[m]()']) rejects(code, 'missing-global');
  });

  it('missing-static: rejects Array.from/of, typed array from/of, Number.isInteger, Math.imul', () => {
    for (const code of ['Array.from(x)', 'Array.of(1)', 'Uint8Array.from(x)', 'Int16Array.of(1)', 'Float64Array.from(x)',
      'Number.isInteger(1)', 'Math.imul(2, 3)', 'Array["from"](x)']) {
      rejects(code, 'missing-static');
    }
    assert.deepEqual(rules('var Array = { from: 1 }; Array.from;'), []);
  });

  it('prototype-read: rejects Array/String/typed array .prototype.x reads', () => {
    rejects('Array.prototype.slice.call(arguments)', 'prototype-read');
    rejects('var t = String.prototype.trim;', 'prototype-read');
    rejects('Uint8Array.prototype.indexOf.call(a, 1)', 'prototype-read');
    assert.deepEqual(rules('A.prototype.f = function () {};'), []);
  });

  it('fromCharCode-apply: rejects String.fromCharCode.apply but on a chunk of at most 256', () => {
    rejects('String.fromCharCode.apply(null, a)', 'fromCharCode-apply');
    // a chunk of at most 256 is what Espruino takes; a larger or unbounded one is not
    assert.deepEqual(rules('for (var i = s; i < e; i += 256) t += String.fromCharCode.apply(null, b.subarray(i, Math.min(e, i + 256)));'), []);
    rejects('t = String.fromCharCode.apply(null, b.subarray(i, Math.min(e, i + 257)));', 'fromCharCode-apply');
    rejects('t = String.fromCharCode.apply(null, b.subarray(i, Math.min(e, j + 256)));', 'fromCharCode-apply');
    rejects('t = String.fromCharCode.apply(null, b.subarray(i, e));', 'fromCharCode-apply');
  });

  // the next two were found by running the bundle on Espruino 2v29's Linux build
  it('length-assignment: rejects assigning an array\'s length ("Assignment to a constant" on Espruino)', () => {
    rejects('a.length = 0;', 'length-assignment');
    rejects('a.length = b.length = 0;', 'length-assignment');
    assert.deepEqual(rules('var n = a.length; a.splice(0); a = [];'), []);
  });

  it('regex: rejects regular expression literals and RegExp (alternation and optional groups match nothing on Espruino)', () => {
    rejects('var m = /^(mqtts?|wss?):/.exec(u);', 'regex');
    rejects('var r = new RegExp("a|b");', 'regex');
    assert.deepEqual(rules('var i = u.indexOf("://");'), []);
  });

  it('hoisting: rejects a function used before its declaration runs, or declared after a return (Espruino does not hoist)', () => {
    rejects('var t = f(); function f() { return 1; }', 'hoisting');
    rejects('function g() { var o = { k: f }; return o; function f() {} }', 'hoisting');
    rejects('function g() { return 1; function f() {} }', 'hoisting');
    assert.deepEqual(rules('function f() { return g(); } function g() { return 1; } var t = f();'), []);
    assert.deepEqual(rules('function g() { function f() {} var o = { f: f }; return o; }'), []);
  });

  it('label: rejects labeled statements', () => {
    rejects('outer: for (;;) { for (;;) { break outer; } }', 'label');
  });

  it('copyWithin: rejects .copyWithin()', () => {
    rejects('a.copyWithin(0, 1)', 'copyWithin');
  });

  it('typed-slice / typed-lastIndexOf: rejects them on what is visibly a typed array', () => {
    rejects('new Uint8Array(4).slice(1)', 'typed-slice');
    rejects('a.subarray(1).slice(0)', 'typed-slice');
    rejects('function f() { var b = new Int32Array(2); return b.lastIndexOf(1); }', 'typed-lastIndexOf');
    rejects('function f() { var b; g(b.slice(1)); b = x.subarray(2); }', 'typed-slice');
    rejects('var held = new Uint8Array(8); function f() { return held.slice(1); }', 'typed-slice');
    // a name is followed to the function that declares it: another function's `b` is not this one
    assert.deepEqual(rules('function f() { var b = new Uint8Array(1); } function g(b) { return b.slice(1) + [].lastIndexOf(1); }'), []);
  });

  it('negative-index: rejects x[-1]', () => {
    rejects('var v = u8[-1];', 'negative-index');
  });

  it('long-identifier: rejects names over 64 characters', () => {
    rejects(`var ${'a'.repeat(65)} = 1;`, 'long-identifier');
    rejects(`x.${'p'.repeat(65)} = 1;`, 'long-identifier');
    assert.deepEqual(rules(`var ${'a'.repeat(64)} = 1;`), []);
  });

  it('require: rejects modules Espruino does not have built in, and non-literal names', () => {
    rejects('require("mqtt")', 'require');
    rejects('require(name)', 'require');
    rejects('require("ne" + "t")', 'require');
    assert.deepEqual(rules('require("Storage"); require("tls"); require("heatshrink");'), []);
  });

  it('extends-error: rejects class X extends Error as TypeScript lowers it, minified or not', () => {
    const source = 'export class DecodeFailure extends Error { constructor(m: string) { super(m); } }';
    rejects(lowered(source, false), 'extends-error');
    rejects(lowered(source, true), 'extends-error');
    rejects(lowered(source.replace('extends Error', 'extends TypeError'), true), 'extends-error');
    // and any lowered `extends`: __extends(B, _super) runs before `function B` exists (seen on Espruino 2v29)
    assert.deepEqual(rules(lowered('class A {} export class B extends A {}', true)).filter((r) => r !== 'long-line'), ['hoisting']);
  });

  it('long-line: rejects a line over twice MAX_LINE, since a caught exception copies its line into RAM', () => {
    rejects(`var a = "${'x'.repeat(2 * MAX_LINE)}";`, 'long-line');
    assert.deepEqual(rules(`var a = "${'x'.repeat(MAX_LINE)}";\nvar b = 1;`), []);
  });

  it('line-continuation: rejects a string continued on the next line (Espruino keeps the newline)', () => {
    rejects('var a = "s\\\ntore full";', 'line-continuation');
    assert.deepEqual(rules('var a = "s\\ntore";'), []);
  });
});

describe('breakLines', () => {
  it('breaks minified code into short lines without changing what it does', () => {
    // a newline after return/throw/break/continue or before ++/-- would insert a semicolon
    const code = 'function f(a){var b=a;for(;;){if(b>3)break;b++}return b' + '+a+b'.repeat(30) + '}'
      + 'var c=0;c++;var s="a,b;{c}";function g(x){throw x}';
    for (const max of [1, 5, 20, 40]) {
      const broken = breakLines(code, max);
      assert.ok(broken.split('\n').length > 3, 'broken into lines at ' + max);
      assert.equal(new Function(broken + ';return [f(1), c, s]')().join(), new Function(code + ';return [f(1), c, s]')().join());
      assert.ok(!/(return|throw|break|continue)\n|\n(\+\+|--)/.test(broken), broken);
    }
  });});

describe('built bundles (dist/espruino)', () => {
  const dir = path.join(ROOT, 'dist/espruino');
  for (const file of Object.keys(budgets)) {
    it(`${file} passes the Espruino check and fits its budget`, () => {
      const code = fs.readFileSync(path.join(dir, file), 'utf8');
      assert.deepEqual(checkBundle(code, file), []);
      assert.deepEqual(checkSize(code, file, (budgets as { [file: string]: Budget })[file]).violations, []);
    });
  }
});
