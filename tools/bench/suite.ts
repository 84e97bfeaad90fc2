// What a benchmark suite provides, and how it gets fresh processes to measure in.
//
// Every measurement runs in a child process of its own: a run then starts from cold JIT state with no
// type feedback left by the other implementation, so runs are independent samples, and a child can be
// started with V8 flags (--expose-gc, a large young generation) that the parent should not run under.
// The child is this same program started with the same arguments, which reaches the same entry point
// whether that is tools/bench/index.ts, dist/node/bench.js or a CLI that calls main(); the environment
// variable below tells it to measure one thing and report back over the IPC channel instead.
import { fork } from 'child_process';

export const CHILD_ENV = 'SPARROW_BENCH_CHILD';

export interface RunOptions {
  /** Runs per table cell (each in a fresh process). */
  runs: number;
  /** Fewer runs and shorter windows, for a quick look (`--quick`); not for publishing. */
  quick?: boolean;
  /** Progress lines, on stderr so that stdout stays a clean markdown report. */
  log(message: string): void;
  /** The Espruino interpreter (a Linux build) for the board suite: --espruino PATH or ESPRUINO_BIN. */
  espruino?: string;
  /** A peer library for the board suite to run beside Sparrow's (--peer PATH). */
  peer?: string;
}

export interface Suite {
  /** Name on the command line: `bench codec`. */
  name: string;
  /** Heading of this suite's section in docs/benchmarks.md. */
  section: string;
  /** Measures everything and returns the section's markdown (without its heading). */
  run(options: RunOptions): Promise<string>;
  /** Runs inside a child process: measures what `spec` names and returns a JSON-able result. */
  child(spec: unknown): Promise<unknown>;
  /** What is wrong with the suite's own settings (its environment variables), told before any work starts; null when nothing. */
  settingsError?(): string | null;
}

/** Runs `spec` of `suite` in a fresh Node process started with the extra V8 `flags`; resolves to its result. */
export function inChild<T>(suite: string, spec: unknown, flags: string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(process.argv[1], process.argv.slice(2), {
      execArgv: process.execArgv.concat(flags),
      env: { ...process.env, [CHILD_ENV]: JSON.stringify({ suite, spec }) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: { ok: true; value: T } | { ok: false; error: string } | undefined;
    child.on('message', (m: any) => { result = m; });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (result && result.ok) resolve(result.value);
      else reject(new Error('benchmark child ' + JSON.stringify(spec) + ' failed: ' + (result ? result.error : 'exit code ' + code)));
    });
  });
}

/** The child side: run the requested measurement and send the result (or the failure) to the parent. */
export async function serveChild(suites: Suite[], request: string): Promise<void> {
  const { suite, spec } = JSON.parse(request);
  try {
    const s = suites.find((x) => x.name === suite);
    if (!s) throw new Error('unknown suite ' + suite);
    process.send!({ ok: true, value: await s.child(spec) });
  } catch (e) {
    process.send!({ ok: false, error: e instanceof Error ? e.stack || e.message : String(e) });
  }
  process.disconnect();
}
