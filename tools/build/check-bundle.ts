// The mechanical check of a built bundle against the Espruino interpreter's real limits
// (shared/ESPRUINO.md, "what breaks"). It reads the very file that is flashed, after lowering and
// minifying, because that is where a helper, a polyfill or a minifier's rewrite would slip in.
import { parse, type AnyNode, type Identifier, type MemberExpression, type Position } from 'acorn';
import { gzipSync } from 'zlib';
import { children, isFunction, lookup, walk, type Scope } from './ast';
import { MAX_LINE } from './espruino';

const TYPED_ARRAYS = ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array',
  'Uint32Array', 'Float32Array', 'Float64Array'];

/** Globals Espruino does not have (or, for Buffer/process/globalThis, that only Node has). */
const MISSING_GLOBALS = ['Map', 'Set', 'WeakMap', 'WeakSet', 'Symbol', 'BigInt', 'Promise', 'Proxy', 'Reflect',
  'TextEncoder', 'TextDecoder', 'Buffer', 'RangeError', 'process', 'globalThis'];

/** Members of those globals that Espruino does have: `process.memory()` counts its JsVars, `process.env.MODULES` lists the built-in modules. */
const ESPRUINO_MEMBERS: { [global: string]: string[] } = { process: ['memory', 'env'] };

/** Static members Espruino lacks, by global. */
const MISSING_STATICS: { [global: string]: string[] } = { Array: ['from', 'of'], Number: ['isInteger'], Math: ['imul'] };
for (const t of TYPED_ARRAYS) MISSING_STATICS[t] = ['from', 'of'];

/** Globals whose `.prototype.x` reads as undefined on Espruino. */
const NO_PROTOTYPE = ['Array', 'String'].concat(TYPED_ARRAYS);

/** Modules built into Espruino; anything else would have to be uploaded separately. */
const ESPRUINO_MODULES = ['net', 'tls', 'http', 'Storage', 'Wifi', 'ESP32', 'ESP8266', 'crypto', 'fs', 'dgram',
  'Flash', 'neopixel', 'heatshrink'];

const MAX_IDENTIFIER = 64;

/** Violations of the Espruino rules in `code` (empty when it is fine); `name` is used in the messages. */
export function checkBundle(code: string, name: string): string[] {
  let program: AnyNode;
  try {
    program = parse(code, { ecmaVersion: 5, locations: true }) as AnyNode;
  } catch (e) {
    const err = e as SyntaxError & { loc?: Position };
    const at = err.loc ? `${name}:${err.loc.line}:${err.loc.column + 1}` : name;
    return [`not-es5: ${err.message.replace(/ \(\d+:\d+\)$/, '')} at ${at}`];
  }
  const out: string[] = [];
  // a stack trace copies its whole line into RAM, even for an exception that is caught (MAX_LINE); lines
  // are broken only where a newline is harmless, so one may run past MAX_LINE, but not to twice it
  code.split('\n').forEach((line, i) => {
    if (line.length > 2 * MAX_LINE) out.push(`long-line: ${line.length} characters (a caught exception copies its line into RAM) at ${name}:${i + 1}:1`);
  });
  const report = (rule: string, detail: string, node: AnyNode): void => {
    const start = node.loc ? node.loc.start : { line: 0, column: -1 };
    out.push(`${rule}: ${detail} at ${name}:${start.line}:${start.column + 1}`);
  };
  // `.slice()` on a variable is judged after the walk, once every assignment to it has been seen.
  const pending: { id: Identifier; scope: Scope; method: string }[] = [];
  const root = walk(program, (node, parent, scope) => {
    const isFree = (n: AnyNode, names: string[]): n is Identifier =>
      n.type === 'Identifier' && names.indexOf(n.name) >= 0 && !lookup(scope, n.name);
    const isTyped = (n: AnyNode): boolean =>
      (n.type === 'NewExpression' && isFree(n.callee, TYPED_ARRAYS)) ||
      (n.type === 'CallExpression' && n.callee.type === 'MemberExpression' && propName(n.callee) === 'subarray');
    switch (node.type) {
      case 'Identifier':
        if (node.name.length > MAX_IDENTIFIER) report('long-identifier', `${node.name.length} characters (Espruino truncates at ${MAX_IDENTIFIER})`, node);
        if (isReference(node, parent) && isFree(node, MISSING_GLOBALS) && !isEspruinoMember(node, parent)) report('missing-global', node.name, node);
        break;
      case 'MemberExpression': {
        const prop = propName(node);
        const obj = node.object as AnyNode;
        if (prop === null) {
          if (node.computed && isNegativeNumber(node.property as AnyNode)) report('negative-index', 'x[-n] throws on typed arrays', node);
          break;
        }
        if (obj.type === 'Identifier' && MISSING_STATICS[obj.name] && MISSING_STATICS[obj.name].indexOf(prop) >= 0 && !lookup(scope, obj.name)) {
          report('missing-static', `${obj.name}.${prop}`, node);
        }
        if (obj.type === 'MemberExpression' && propName(obj) === 'prototype' && isFree(obj.object as AnyNode, NO_PROTOTYPE)) {
          report('prototype-read', `${(obj.object as Identifier).name}.prototype.${prop} reads as undefined`, node);
        }
        if (prop === 'apply' && obj.type === 'MemberExpression' && propName(obj) === 'fromCharCode' && isFree(obj.object as AnyNode, ['String'])
          && !(parent && parent.type === 'CallExpression' && parent.callee === node && isBoundedChunk(parent.arguments[1] as AnyNode | undefined))) {
          report('fromCharCode-apply', 'String.fromCharCode.apply throws above 256 elements', node);
        }
        break;
      }
      case 'LabeledStatement':
        report('label', `label ${node.label.name} (break/continue to a label throws)`, node);
        break;
      case 'CallExpression': {
        const callee = node.callee as AnyNode;
        if (callee.type === 'Identifier' && callee.name === 'require' && !lookup(scope, 'require')) checkRequire(node.arguments as AnyNode[], node, report);
        if (callee.type === 'FunctionExpression') checkExtendsError(callee, node.arguments as AnyNode[], scope, node, report);
        if (callee.type !== 'MemberExpression') break;
        const method = propName(callee);
        if (method === 'copyWithin') report('copyWithin', '.copyWithin() is missing', node);
        if (method !== 'slice' && method !== 'lastIndexOf') break;
        const obj = callee.object as AnyNode;
        if (isTyped(obj)) report('typed-' + method, `typed array .${method}()`, node);
        else if (obj.type === 'Identifier') pending.push({ id: obj, scope, method });
        break;
      }
      case 'VariableDeclarator':
        if (node.init && node.id.type === 'Identifier' && isTyped(node.init as AnyNode)) owner(scope, node.id.name).typed.add(node.id.name);
        break;
      case 'AssignmentExpression':
        if (node.left.type === 'Identifier' && isTyped(node.right as AnyNode)) owner(scope, node.left.name).typed.add(node.left.name);
        // seen on Espruino 2v29: `a.length = 0` throws "Assignment to a constant"
        if (node.left.type === 'MemberExpression' && propName(node.left) === 'length') report('length-assignment', 'assigning .length throws', node);
        break;
      case 'Literal':
        // seen on Espruino 2v29: a backslash-newline inside a string (a line continuation) keeps the newline
        if (typeof node.value === 'string' && /\\(\r\n|[\n\r\u2028\u2029])/.test(node.raw || '')) report('line-continuation', 'a string continued on the next line keeps the newline on Espruino', node);
        // seen on Espruino 2v29: /^(mqtts?|wss?):/ matches nothing, and a bare `/` inside [...] ends the literal
        if ((node as { regex?: unknown }).regex) report('regex', 'regular expressions are unreliable on Espruino', node);
        break;
      case 'NewExpression':
        if (isFree(node.callee as AnyNode, ['RegExp'])) report('regex', 'regular expressions are unreliable on Espruino', node);
        break;
    }
  });
  checkDeclarationOrder(program, report);
  for (const p of pending) {
    if ((lookup(p.scope, p.id.name) || root).typed.has(p.id.name)) {
      report('typed-' + p.method, `typed array ${p.id.name}.${p.method}()`, p.id);
    }
  }
  return out;

  function owner(scope: Scope, variable: string): Scope {
    return lookup(scope, variable) || root;
  }
}

type Report = (rule: string, detail: string, node: AnyNode) => void;

/**
 * Seen on Espruino 2v29: function declarations are not hoisted. A declaration defines its name when
 * execution reaches it, so a use that runs earlier in the same body (`var t = f(); function f() {}`)
 * finds nothing, and a declaration below a `return` never exists. Uses inside nested functions are
 * left alone: they run later, when the function is called.
 */
function checkDeclarationOrder(program: AnyNode, report: Report): void {
  const bodies: AnyNode[][] = [];
  const collect = (node: AnyNode): void => {
    if (node.type === 'Program') bodies.push(node.body as AnyNode[]);
    if (isFunction(node) && node.body.type === 'BlockStatement') bodies.push(node.body.body as AnyNode[]);
    for (const child of children(node)) collect(child);
  };
  collect(program);
  for (const statements of bodies) {
    let ended = false;
    statements.forEach((statement, i) => {
      if (statement.type !== 'FunctionDeclaration') {
        ended = ended || statement.type === 'ReturnStatement' || statement.type === 'ThrowStatement';
        return;
      }
      const name = (statement.id as Identifier).name;
      if (ended) report('hoisting', `function ${name} is declared after a return: it never exists`, statement);
      for (const earlier of statements.slice(0, i)) {
        const use = usesRunNow(earlier, name);
        if (use) report('hoisting', `${name} is used before its declaration runs`, use);
      }
    });
  }
}

/** The first reference to `name` in `node` that runs when `node` does (not inside a nested function). */
function usesRunNow(node: AnyNode, name: string): AnyNode | null {
  if (node.type === 'Identifier') return node.name === name ? node : null;
  if (isFunction(node)) return null;
  for (const child of children(node)) {
    // `x.name` and `{ name: 1 }` are not references
    if (node.type === 'MemberExpression' && child === node.property && !node.computed) continue;
    if (node.type === 'Property' && child === node.key && !node.computed) continue;
    const use = usesRunNow(child, name);
    if (use) return use;
  }
  return null;
}

/** Only a literal name of a module Espruino has built in can be required on the board. */
function checkRequire(args: AnyNode[], call: AnyNode, report: Report): void {
  const arg = args[0];
  if (args.length !== 1 || arg.type !== 'Literal' || typeof arg.value !== 'string') {
    report('require', 'require() of something other than one string literal', call);
  } else if (ESPRUINO_MODULES.indexOf(arg.value) < 0) {
    report('require', `module "${arg.value}" is not built into Espruino`, call);
  }
}

/**
 * TypeScript lowers `class X extends Error` to `(function (_super) { __extends(X, _super); ... })(Error)`.
 * Minifying renames both helper and parameter, so the shape is matched, not the names: a function
 * called with a global `...Error` that passes that parameter as the second argument of a call.
 */
function checkExtendsError(fn: AnyNode, args: AnyNode[], scope: Scope, call: AnyNode, report: Report): void {
  if (!isFunction(fn)) return;
  args.forEach((arg, i) => {
    const param = fn.params[i];
    if (arg.type !== 'Identifier' || !/Error$/.test(arg.name) || lookup(scope, arg.name) || !param || param.type !== 'Identifier') return;
    if (passesAsSecondArgument(fn.body as AnyNode, param.name)) report('extends-error', `class extends ${arg.name} is broken on Espruino`, call);
  });
}

function passesAsSecondArgument(node: AnyNode, name: string): boolean {
  if (node.type === 'CallExpression') {
    const second = node.arguments[1] as AnyNode | undefined;
    if (second && second.type === 'Identifier' && second.name === name) return true;
  }
  return children(node).some((c) => !isFunction(c) && passesAsSecondArgument(c, name));
}

/** `process.memory` and the like: a member Espruino has, of a global it otherwise lacks. */
function isEspruinoMember(id: Identifier, parent: AnyNode | null): boolean {
  const members = ESPRUINO_MEMBERS[id.name];
  return !!members && !!parent && parent.type === 'MemberExpression' && parent.object === id && members.indexOf(propName(parent) || '') >= 0;
}

/**
 * `x.subarray(i, Math.min(end, i + N))` with a literal N <= 256: an argument list that
 * String.fromCharCode.apply takes on Espruino (it throws above 256), whatever `end` is.
 */
function isBoundedChunk(arg: AnyNode | undefined): boolean {
  if (!arg || arg.type !== 'CallExpression' || arg.callee.type !== 'MemberExpression' || propName(arg.callee) !== 'subarray') return false;
  const [from, to] = arg.arguments as AnyNode[];
  if (!from || from.type !== 'Identifier' || !to || to.type !== 'CallExpression' || to.callee.type !== 'MemberExpression') return false;
  const min = to.callee;
  if (min.object.type !== 'Identifier' || min.object.name !== 'Math' || propName(min) !== 'min') return false;
  return (to.arguments as AnyNode[]).some((a) => a.type === 'BinaryExpression' && a.operator === '+'
    && a.left.type === 'Identifier' && a.left.name === from.name
    && a.right.type === 'Literal' && typeof a.right.value === 'number' && a.right.value <= 256);
}

/** `a.b` and `a["b"]` give "b"; other computed members give null. */
function propName(m: MemberExpression): string | null {
  const p = m.property as AnyNode;
  if (!m.computed) return p.type === 'Identifier' ? p.name : null;
  return p.type === 'Literal' && typeof p.value === 'string' ? p.value : null;
}

function isNegativeNumber(n: AnyNode): boolean {
  return n.type === 'UnaryExpression' && n.operator === '-' && n.argument.type === 'Literal' && typeof n.argument.value === 'number';
}

/** False where an identifier is a name and not a variable: `x.Map`, `{ Map: 1 }`, labels. */
function isReference(id: Identifier, parent: AnyNode | null): boolean {
  if (!parent) return true;
  if (parent.type === 'MemberExpression') return parent.computed || parent.property !== id;
  if (parent.type === 'Property') return parent.computed || parent.key !== id;
  return parent.type !== 'LabeledStatement' && parent.type !== 'BreakStatement' && parent.type !== 'ContinueStatement';
}

export interface Budget {
  minified: number;
  gzip: number;
}

export interface SizeReport {
  minified: number;
  gzip: number;
  /** Rough JsVars the source costs once uploaded: Espruino keeps about 12 characters per JsVar. */
  jsVars: number;
  violations: string[];
}

/** Sizes of a bundle and whether it fits its budget. Gzip (level 9) is tracked too: it moves less with
 * minifier noise than raw bytes, so it shows real growth of the code. */
export function checkSize(code: string, name: string, budget: Budget | undefined): SizeReport {
  const minified = Buffer.byteLength(code);
  const gzip = gzipSync(code, { level: 9 }).length;
  const violations: string[] = [];
  if (!budget) violations.push(`budget: no entry for ${name} in tools/build/budget.json`);
  else {
    if (minified > budget.minified) violations.push(`budget: ${name} is ${minified} B minified, budget ${budget.minified} B`);
    if (gzip > budget.gzip) violations.push(`budget: ${name} is ${gzip} B gzipped, budget ${budget.gzip} B`);
  }
  return { minified, gzip, jsVars: Math.ceil(minified / 12), violations };
}
