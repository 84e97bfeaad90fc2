// The build's function-size gate (tools/build/function-size.ts) on small fixture trees.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkFunctionSizes, measureFunctions, type FunctionLimits } from '../tools/build/function-size';

function tree(files: { [name: string]: string }): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-fsize-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
  return root;
}

const limits: FunctionLimits = { lines: 6, complexity: 3, ceilings: {} };

describe('function-size gate', () => {
  it('counts McCabe complexity: if, loops, case, catch, ?:, && || ??', () => {
    const root = tree({ 'src/a.ts': 'export function f(a: number, b?: number) {\n  if (a) return 1;\n  for (;;) break;\n'
      + '  switch (a) { case 1: break; case 2: break; }\n  try { a++; } catch { a--; }\n  return a ? (b ?? 0) : (a && b) || 2;\n}\n' });
    const [f] = measureFunctions(root, ['src']);
    assert.equal(f.where, 'src/a.ts:f');
    assert.equal(f.complexity, 1 + 1 + 1 + 2 + 1 + 1 + 1 + 1 + 1);
  });

  it('charges a factory only for its own lines, not its inner functions\' bodies', () => {
    const inner = Array.from({ length: 10 }, (_, i) => `    x += ${i};`).join('\n');
    const root = tree({ 'src/b.ts': `export function make() {\n  let x = 0;\n  const g = () => {\n${inner}\n  };\n  return g;\n}\n` });
    const sizes = measureFunctions(root, ['src']);
    const make = sizes.find((s) => s.where === 'src/b.ts:make')!;
    const g = sizes.find((s) => s.where === 'src/b.ts:g')!;
    assert.equal(make.lines, 5);
    assert.equal(g.lines, 12);
    assert.deepEqual(checkFunctionSizes(sizes, limits), ['function-size: src/b.ts:g has 12 lines (limit 6)']);
  });

  it('holds a function with a ceiling to its ceiling, not the general limit', () => {
    const body = Array.from({ length: 8 }, (_, i) => `  if (a > ${i}) a--;`).join('\n');
    const root = tree({ 'src/c.ts': `export function old(a: number) {\n${body}\n  return a;\n}\n` });
    const sizes = measureFunctions(root, ['src']);
    assert.equal(checkFunctionSizes(sizes, limits).length, 2);
    assert.deepEqual(checkFunctionSizes(sizes, { ...limits, ceilings: { 'src/c.ts:old': { lines: 11, complexity: 9 } } }), []);
    assert.deepEqual(checkFunctionSizes(sizes, { ...limits, ceilings: { 'src/c.ts:old': { lines: 11, complexity: 8 } } }),
      ['function-size: src/c.ts:old has complexity 9 (limit 8)']);
  });

  it('refuses a ceiling that is no longer needed, so the list of exceptions stays true', () => {
    const root = tree({ 'src/d.ts': 'export function small() {\n  return 1;\n}\n' });
    const sizes = measureFunctions(root, ['src']);
    const ceilings = { 'src/d.ts:small': { lines: 60, complexity: 9 }, 'src/d.ts:gone': { lines: 60, complexity: 9 } };
    assert.deepEqual(checkFunctionSizes(sizes, { ...limits, ceilings }), [
      'function-size: src/d.ts:small is within the limits now: take its ceiling out of function-limits.json',
      'function-size: src/d.ts:gone is gone: take its ceiling out of function-limits.json',
    ]);
  });
});
