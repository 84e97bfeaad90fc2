// The built `sparrow` command as a child process, for tests of its commands.
import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import type { Cleanup } from './broker';

export const CLI = path.resolve(__dirname, '../../dist/node/sparrow.js');

/** Runs `sparrow args...` to its end; rejects if it has not exited within `ms`. Output is stdout + stderr. */
export function runSparrow(args: string[], ms = 30000): Promise<{ code: number | null; out: string }> {
  return runNode('sparrow', CLI, args, ms);
}

/** Runs `node script args...` (a command named `name` in errors) to its end, in `cwd`; rejects if it has not exited within `ms`. */
export function runNode(name: string, script: string, args: string[], ms: number, cwd?: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const t = setTimeout(() => { child.kill(); reject(new Error(name + ' ' + args[0] + ' did not exit within ' + ms + ' ms: ' + out)); }, ms);
    child.on('exit', (code) => { clearTimeout(t); resolve({ code, out }); });
  });
}

/** A `sparrow` command left running (a fleet): what it has written so far, and its exit. */
export interface Running {
  child: ChildProcess;
  out(): string;
  exit: Promise<number | null>;
  /** SIGTERM, as a user stops it; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `sparrow args...`; `cleanup` stops it if the test has not. */
export function startSparrow(args: string[], cleanup: Cleanup): Running {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); return exit; };
  cleanup.add(() => stop().then(() => undefined));
  return { child, out: () => out, exit, stop };
}
