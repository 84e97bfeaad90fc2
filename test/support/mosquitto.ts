// A real mosquitto broker (Debian's package) for interop tests: its own config on a free loopback port,
// started and stopped by the test, with persistence in a temp folder so restarts keep sessions.
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { freePort } from '../../host-sim/platform/ports';

export { freePort };

export interface Mosquitto {
  port: number;
  url: string;
  stop(): Promise<void>;
  /** Stops and starts again on the same port, keeping persisted sessions. */
  restart(): Promise<void>;
}

/** Resolves when something accepts TCP connections on the port; rejects after `ms`. */
export async function waitForPort(port: number, ms = 10000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error('nothing listens on port ' + port + ' after ' + ms + ' ms');
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface MosquittoOptions {
  /** Users and their passwords: the broker then refuses anonymous clients and wrong passwords. */
  users?: { [user: string]: string };
  /** Lines for the end of its config (a password file, a bridge...). */
  extra?: string[];
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-mosquitto-'));
  const conf = path.join(dir, 'mosquitto.conf');
  const users = Object.entries(options.users || {});
  const passwords = path.join(dir, 'passwords');
  users.forEach(([user, password], i) => execFileSync('mosquitto_passwd', i ? ['-b', passwords, user, password] : ['-c', '-b', passwords, user, password]));
  fs.writeFileSync(conf, [
    // as root, mosquitto would drop to its own user and could not write the persistence file here
    `listener ${port} 127.0.0.1`, 'user root', 'persistence true', `persistence_location ${dir}/`,
    ...(users.length ? ['allow_anonymous false', `password_file ${passwords}`] : ['allow_anonymous true']),
    'autosave_interval 1', 'log_dest stderr', 'log_type error', 'max_queued_messages 10000', ...(options.extra || []),
  ].join('\n') + '\n');
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    await waitForPort(port);
  };
  const stop = () => new Promise<void>((resolve) => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return resolve();
    c.on('exit', () => resolve());
    c.kill('SIGTERM');
  });
  await start();
  return {
    port, url: `mqtt://127.0.0.1:${port}`,
    stop: async () => { await stop(); fs.rmSync(dir, { recursive: true, force: true }); },
    restart: async () => { await stop(); await start(); },
  };
}
