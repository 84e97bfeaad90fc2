// A small walker over acorn's ES5 tree with function scopes, enough for the bundle check to tell a
// free global (`Map`) from a local that happens to share its name, and to follow a variable to the
// function that declares it. ES5 has only function scopes (plus the catch parameter), so one scope
// per function, filled with its hoisted declarations on entry, is exact enough.
import type { AnyNode, Function as FunctionNode, Identifier } from 'acorn';

export interface Scope {
  parent: Scope | null;
  /** Names declared here: parameters, `var`s, function declarations, catch parameters. */
  names: Set<string>;
  /** Declared names seen assigned a typed array somewhere (filled by the bundle check). */
  typed: Set<string>;
}

export type Visitor = (node: AnyNode, parent: AnyNode | null, scope: Scope) => void;

/** Child nodes of `node`, found generically (any property holding a node or an array of nodes). */
export function children(node: AnyNode): AnyNode[] {
  const out: AnyNode[] = [];
  for (const key of Object.keys(node)) {
    if (key === 'loc') continue;
    const value: unknown = (node as unknown as Record<string, unknown>)[key];
    if (Array.isArray(value)) {
      for (const item of value) if (isNode(item)) out.push(item);
    } else if (isNode(value)) {
      out.push(value);
    }
  }
  return out;
}

function isNode(value: unknown): value is AnyNode {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

export function isFunction(node: AnyNode): node is AnyNode & FunctionNode {
  return node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression';
}

/** Visits every node of `root` in source order, each with its parent and the innermost function scope. */
export function walk(root: AnyNode, visit: Visitor): Scope {
  const top = newScope(null, root);
  const step = (node: AnyNode, parent: AnyNode | null, scope: Scope): void => {
    visit(node, parent, scope);
    const inner = isFunction(node) ? newScope(scope, node) : scope;
    if (node.type === 'CatchClause' && node.param && node.param.type === 'Identifier') scope.names.add(node.param.name);
    for (const child of children(node)) step(child, node, inner);
  };
  step(root, null, top);
  return top;
}

/** The scope that declares `name`, seen from `scope`, or null for a free (global) name. */
export function lookup(scope: Scope, name: string): Scope | null {
  for (let s: Scope | null = scope; s; s = s.parent) if (s.names.has(name)) return s;
  return null;
}

/** A scope for a function (or the program), holding its hoisted declarations. */
function newScope(parent: Scope | null, owner: AnyNode): Scope {
  const scope: Scope = { parent, names: new Set(), typed: new Set() };
  if (isFunction(owner)) {
    // A function expression's own name is visible only inside it; a declaration's name was hoisted outside.
    if (owner.type === 'FunctionExpression' && owner.id) scope.names.add(owner.id.name);
    for (const p of owner.params) if (p.type === 'Identifier') scope.names.add(p.name);
    scope.names.add('arguments');
    hoist(owner.body as AnyNode, scope.names);
  } else {
    hoist(owner, scope.names);
  }
  return scope;
}

/** Adds the `var` and function declarations of a body, without entering nested functions. */
function hoist(node: AnyNode, names: Set<string>): void {
  for (const child of children(node)) {
    if (child.type === 'VariableDeclarator' && child.id.type === 'Identifier') names.add(child.id.name);
    if (child.type === 'FunctionDeclaration') {
      names.add((child.id as Identifier).name);
      continue;
    }
    if (child.type !== 'FunctionExpression') hoist(child, names);
  }
}
