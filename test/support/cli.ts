// The built `sparrow` command as a child process, for tests of its commands.
import { spawn } from 'child_process';
import * as path from 'path';

export const CLI = path.resolve(__dirname, '../../dist/node/sparrow.js');

/** Runs `sparrow args...` to its end; rejects if it has not exited within `ms`. Output is stdout + stderr. */
export function runSparrow(args: string[], ms = 30000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const t = setTimeout(() => { child.kill(); reject(new Error('sparrow ' + args[0] + ' did not exit within ' + ms + ' ms: ' + out)); }, ms);
    child.on('exit', (code) => { clearTimeout(t); resolve({ code, out }); });
  });
}
