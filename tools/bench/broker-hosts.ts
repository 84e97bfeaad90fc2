// The brokers under test, each in a process of its own, so that its CPU time can be read from
// /proc/<pid>/stat the same way for all three, and it never shares a JIT or an event loop with the load.
//
// Sparrow and aedes run in a fork of this benchmark program (see suite.ts: the child reaches the same
// entry point and serves the request in CHILD_ENV); mosquitto is Debian's binary with a generated config.
import { ChildProcess, fork, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { CHILD_ENV } from './suite';
import { freePort } from '../../host-sim/platform/ports';

export type BrokerImpl = 'sparrow' | 'aedes' | 'mosquitto';

export interface RunningBroker {
  impl: BrokerImpl;
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/** The request a broker child serves (suite `broker`, spec kind `host`). */
export interface HostSpec { kind: 'host'; impl: 'sparrow' | 'aedes' }

export function mosquittoVersion(): string | null {
  const r = spawnSync('mosquitto', ['-h'], { encoding: 'utf8' });
  if (r.error) return null;
  const m = /mosquitto version (\S+)/.exec(r.stdout + r.stderr);
  return m ? m[1] : 'unknown';
}

export function aedesVersion(): string {
  // aedes's "exports" does not include package.json; it sits next to the entry point
  return JSON.parse(fs.readFileSync(path.join(path.dirname(require.resolve('aedes')), 'package.json'), 'utf8')).version;
}

export async function startBroker(impl: BrokerImpl): Promise<RunningBroker> {
  return impl === 'mosquitto' ? startMosquitto() : startForked(impl);
}

/** Forks this program as a broker host; resolves once it reports its port. */
function startForked(impl: 'sparrow' | 'aedes'): Promise<RunningBroker> {
  const spec: HostSpec = { kind: 'host', impl };
  const child = fork(process.argv[1], process.argv.slice(2), {
    // SPARROW_BENCH_PROFILE=DIR writes a V8 CPU profile of each Sparrow broker there (open it in Chrome's DevTools)
    execArgv: process.execArgv.concat(impl === 'sparrow' && process.env.SPARROW_BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.SPARROW_BENCH_PROFILE] : []),
    env: { ...process.env, [CHILD_ENV]: JSON.stringify({ suite: 'broker', spec }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.once('exit', (code) => reject(new Error(impl + ' broker exited with code ' + code + ' before listening')));
    child.on('message', (m: any) => {
      if (m && typeof m.port === 'number') {
        resolve({
          impl, pid: child.pid!, port: m.port,
          stop: async () => { if (child.connected) child.send('stop'); await exited; },
        });
      }
    });
  });
}

/** Inside the forked child: run the broker until the parent says stop. */
export async function hostBroker(spec: HostSpec): Promise<void> {
  let close: () => Promise<void>;
  let port: number;
  if (spec.impl === 'sparrow') {
    const { Broker } = await import('../../broker/broker');
    const b = await Broker.start({ port: 0, wsPort: null, logLevel: 'warn' });
    port = b.ports.tcp;
    close = () => b.close();
  } else {
    const { Aedes } = await import('aedes');
    const aedes = await Aedes.createBroker();
    const server = net.createServer(aedes.handle as (s: net.Socket) => void);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as net.AddressInfo).port;
    close = () => new Promise<void>((r) => { server.close(); aedes.close(() => r()); });
  }
  const stopped = new Promise<void>((r) => process.once('message', () => r()));
  process.send!({ port });
  await stopped;
  // a client socket left open must not keep the child from exiting
  await Promise.race([close(), new Promise((r) => setTimeout(r, 1000))]);
}

/** mosquitto with its default limits (in flight 20, queue 1000 per client): the configuration users get. */
async function startMosquitto(): Promise<RunningBroker> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-bench-mosquitto-'));
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\nlog_dest stderr\nlog_type error\n`);
  const child: ChildProcess = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitForPort(port, child);
  return {
    impl: 'mosquitto', pid: child.pid!, port,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once `port` accepts connections; rejects if `child` exits first or after 10 s. */
export async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10000;
  for (;;) {
    if (child.exitCode !== null) throw new Error('mosquitto exited with code ' + child.exitCode);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error('mosquitto is not listening on ' + port);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number): number {
  const stat = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
  // fields after the command name, which is in parentheses and may contain spaces
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

const CLOCK_TICKS = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  return Number(r.stdout) || 100;
})();
