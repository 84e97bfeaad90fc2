// The build's gate on function size in firmware/ and broker/: a function may not grow past a length
// or a cyclomatic complexity (tools/build/function-limits.json). Length counts a function's own lines,
// without the bodies of functions nested in it, so a factory is not charged for its inner functions.
// Complexity is McCabe's: 1 plus each branch point (if, loop, case, catch, ?:, &&, ||, ??).
// The few functions already past a limit are listed there with the figure they have, as a ceiling:
// they may shrink, never grow, and a new function may not join them.
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

export interface FunctionLimits {
  lines: number;
  complexity: number;
  /** "file:name" -> the figures a function already past a limit may not exceed. */
  ceilings: { [where: string]: { lines: number; complexity: number } };
}

export interface FunctionSize { where: string; lines: number; complexity: number }

const BRANCHES = new Set([
  ts.SyntaxKind.IfStatement, ts.SyntaxKind.ForStatement, ts.SyntaxKind.ForInStatement, ts.SyntaxKind.ForOfStatement,
  ts.SyntaxKind.WhileStatement, ts.SyntaxKind.DoStatement, ts.SyntaxKind.CaseClause, ts.SyntaxKind.CatchClause,
  ts.SyntaxKind.ConditionalExpression,
]);
const LOGICAL = new Set([ts.SyntaxKind.AmpersandAmpersandToken, ts.SyntaxKind.BarBarToken, ts.SyntaxKind.QuestionQuestionToken]);

/** Every function with a body in the TypeScript files under `roots` (relative to `root`). */
export function measureFunctions(root: string, roots: string[]): FunctionSize[] {
  const sizes: FunctionSize[] = [];
  for (const file of roots.flatMap((r) => sourceFiles(path.join(root, r)))) {
    const rel = path.relative(root, file).split(path.sep).join('/');
    const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      const body = ts.isFunctionLike(node) ? (node as ts.FunctionLikeDeclarationBase).body : undefined;
      if (body) sizes.push({ where: `${rel}:${functionName(node, sf)}`, ...measure(body, sf) });
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return sizes;
}

/** The violations of `limits` (empty when all is well). */
export function checkFunctionSizes(sizes: FunctionSize[], limits: FunctionLimits): string[] {
  const violations: string[] = [];
  // a ceiling is kept only while its function is past the general limits, so the list stays the true one
  for (const where of Object.keys(limits.ceilings)) {
    const s = sizes.find((f) => f.where === where);
    if (!s || (s.lines <= limits.lines && s.complexity <= limits.complexity)) {
      violations.push(`function-size: ${where} ${s ? 'is within the limits now' : 'is gone'}: take its ceiling out of function-limits.json`);
    }
  }
  for (const s of sizes) {
    const cap = limits.ceilings[s.where] || limits;
    if (s.lines > cap.lines) violations.push(`function-size: ${s.where} has ${s.lines} lines (limit ${cap.lines})`);
    if (s.complexity > cap.complexity) violations.push(`function-size: ${s.where} has complexity ${s.complexity} (limit ${cap.complexity})`);
  }
  return violations;
}

function measure(body: ts.Node, sf: ts.SourceFile): { lines: number; complexity: number } {
  const line = (pos: number) => sf.getLineAndCharacterOfPosition(pos).line;
  const own = new Set<number>();
  for (let l = line(body.getStart(sf)); l <= line(body.end); l++) own.add(l);
  let complexity = 1;
  const count = (node: ts.Node): void => {
    if (ts.isFunctionLike(node)) {
      const inner = (node as ts.FunctionLikeDeclarationBase).body;
      // the nested body's lines belong to it; the line it starts on stays with the outer function
      if (inner) for (let l = line(inner.getStart(sf)) + 1; l <= line(inner.end); l++) own.delete(l);
      return;
    }
    if (BRANCHES.has(node.kind)) complexity++;
    else if (ts.isBinaryExpression(node) && LOGICAL.has(node.operatorToken.kind)) complexity++;
    ts.forEachChild(node, count);
  };
  ts.forEachChild(body, count);
  return { lines: own.size, complexity };
}

function functionName(node: ts.Node, sf: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name) return named.name.getText(sf);
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))) {
    return parent.name.getText(sf);
  }
  return `<anonymous@${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}>`;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}
