// ./flash.sh as a child process (with --no-build: the suite's pretest built dist/), for the flashing tests.
import { spawn } from 'child_process';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../..');

/** Runs `./flash.sh --no-build args...` from another folder to its end; output is stdout + stderr. */
export function flash(args: string[], ms = 60000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(ROOT, 'flash.sh'), ['--no-build', ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: os.tmpdir() });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const t = setTimeout(() => { child.kill(); reject(new Error('flash.sh did not exit within ' + ms + ' ms: ' + out)); }, ms);
    child.on('exit', (code) => { clearTimeout(t); resolve({ code, out }); });
  });
}
