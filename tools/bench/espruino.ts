// The real Espruino interpreter (a Linux build, given by path: ESPRUINO_BIN or --espruino), run as a child
// process for the board bench and the board tests. Each run gets a temp folder of its own as its working
// directory, because the interpreter keeps its Storage there (`espruino.flash`); its console input is a
// pipe held open (a closed or /dev/null stdin feeds the REPL NUL characters). Programs report back with
// console lines `@<tag> <json>`, which waitFor() finds among the banner, prompts and escape codes.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface Espruino {
  /** The working directory: Storage lives in its `espruino.flash`. */
  cwd: string;
  /** Every console line so far. */
  lines: string[];
  /**
   * The JSON of the next `@<tag> ` line not yet taken, waiting for it up to `ms`; rejects with the
   * interpreter's last lines when it exits or the time is up. An `@error` line, an uncaught exception or
   * an interpreter error (out of memory: LOW_MEMORY, MEMORY) rejects at once.
   */
  next(tag: string, ms: number): Promise<any>;
  /** Resolves when the interpreter has exited (by itself, with quit(), or killed). */
  exited: Promise<void>;
  /** Kills it (SIGKILL: the interpreter's SIGTERM hook does not always end it). */
  kill(): Promise<void>;
}

/** A fresh working directory for one interpreter (and its Storage). */
export function espruinoDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-espruino-'));
}

/** Why `bin` cannot be run as the interpreter, or '' when it can. */
export function espruinoError(bin: string): string {
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    return bin + ': not an executable file';
  }
  return fs.statSync(bin).isFile() ? '' : bin + ': not an executable file';
}

/** The same build with another number of JsVars, beside `bin` (espruino-16383 -> espruino-1700), if it is there. */
export function siblingBuild(bin: string, jsVars: number): string | null {
  const other = path.join(path.dirname(bin), 'espruino-' + jsVars);
  return espruinoError(other) ? null : other;
}

/** Starts `bin` on `script` (a file name in `cwd`), or on nothing: then it boots Storage's `.bootcde`, as a board does. */
export function startEspruino(bin: string, cwd: string, script?: string): Espruino {
  const child: ChildProcess = spawn(bin, script ? [script] : [], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const taken: { [tag: string]: number } = {};
  let waiting: (() => void) | null = null;
  let partial = '';
  let done = false;
  child.stdout!.setEncoding('latin1');
  child.stdout!.on('data', (d: string) => {
    const parts = (partial + d).split('\n');
    partial = parts.pop()!;
    // the REPL redraws its prompt with "\r\x1b[J" in front of what a program prints
    for (const p of parts) lines.push(p.replace(/\r/g, '').replace(/\x1b\[J/g, '').replace(/^>/, ''));
    if (waiting) waiting();
  });
  child.stderr!.resume();
  const exited = new Promise<void>((resolve) => child.on('exit', () => { done = true; if (waiting) waiting(); resolve(); }));
  // the interpreter echoes a failing line of code whole, with a caret under it: those are left out
  const tail = () => lines.map((l) => l.trim()).filter((l) => l && l !== '^' && l.length < 300).slice(-10).join('\n');

  function find(tag: string): { index: number; json: any; error?: string } | null {
    for (let i = taken[tag] || 0; i < lines.length; i++) {
      const at = lines[i].indexOf('@' + tag + ' '), err = lines[i].indexOf('@error ');
      if (err >= 0 && i >= (taken.error || 0)) return { index: i, json: null, error: lines[i].slice(err + 7) };
      if (/^(Uncaught |New interpreter error: )/.test(lines[i].trim()) && i >= (taken.error || 0)) return { index: i, json: null, error: lines[i].trim() + '\n' + tail() };
      if (at >= 0) return { index: i, json: JSON.parse(lines[i].slice(at + tag.length + 2)) };
    }
    return null;
  }

  return {
    cwd, lines, exited,
    next(tag, ms) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error('no @' + tag + ' line from ' + path.basename(bin) + ' within ' + ms + ' ms; it printed:\n' + tail())), ms);
        function finish(error: Error | null, value?: unknown): void {
          clearTimeout(timer);
          waiting = null;
          if (error) reject(error); else resolve(value);
        }
        function check(): void {
          const f = find(tag);
          if (f && f.error !== undefined) { taken.error = f.index + 1; return finish(new Error(path.basename(bin) + ': ' + f.error)); }
          if (f) { taken[tag] = f.index + 1; return finish(null, f.json); }
          if (done) finish(new Error(path.basename(bin) + ' exited before @' + tag + '; it printed:\n' + tail()));
        }
        waiting = check;
        check();
      });
    },
    kill() {
      if (!done) child.kill('SIGKILL');
      return exited;
    },
  };
}

/** Writes files into the Storage of `cwd` with the interpreter itself (so the flash file is in its format). */
export async function writeStorage(bin: string, cwd: string, files: { [name: string]: string }): Promise<void> {
  const lines = Object.keys(files).map((name) => 'require("Storage").write(' + JSON.stringify(name) + ',' + JSON.stringify(files[name]) + ');');
  fs.writeFileSync(path.join(cwd, 'storage-write.js'), lines.join('\n') + '\nconsole.log("@stored {}");quit();\n');
  const e = startEspruino(bin, cwd, 'storage-write.js');
  try {
    await e.next('stored', 20000);
    await Promise.race([e.exited, new Promise((r) => setTimeout(r, 5000))]);
  } finally {
    await e.kill();
  }
}

/** The interpreter's version from its banner, e.g. "2v29.277". */
export function espruinoVersion(bin: string, cwd: string): string {
  fs.writeFileSync(path.join(cwd, 'version.js'), 'console.log("@version "+JSON.stringify(process.version));quit();\n');
  const r = spawnSync(bin, ['version.js'], { cwd, input: '', encoding: 'latin1', timeout: 10000 });
  const m = /@version "([^"]*)"/.exec(r.stdout || '');
  return m ? m[1] : 'unknown';
}
