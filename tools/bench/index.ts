// Benchmark entry: `bench [suite...] [--runs N] [--write FILE] [--espruino PATH] [--peer PATH]`.
// Prints the machine and each suite's markdown to stdout; with --write (or SPARROW_BENCH_WRITE) it also
// replaces that suite's section of the given markdown file, leaving the other suites' sections alone.
// Suites register in SUITES below; a suite is a module exporting a `Suite` (see suite.ts).
import * as fs from 'fs';
import { board } from './board';
import { broker } from './broker';
import { codec } from './codec';
import { fleet } from './fleet';
import { flow } from './flow';
import { wire } from './wire';
import { updateReport } from './report';
import { describeMachine, machine } from './machine';
import { espruinoError } from './espruino';
import { CHILD_ENV, serveChild, Suite } from './suite';

/** The board suite runs only when an interpreter is given; the others run anywhere. */
const SUITES: Suite[] = [codec, broker, wire, fleet, flow, board];

/** A bad flag or path: one line, exit 2, before any work starts. */
class UsageError extends Error {}

interface Args {
  suites: Suite[];
  runs: number;
  write: string | null;
  quick: boolean;
  espruino?: string;
  peer?: string;
}

function usage(): string {
  return 'usage: bench [' + SUITES.map((s) => s.name).join('|') + ' ...] [--runs N (default 5)] [--quick (3 runs, shorter windows)] [--write docs/benchmarks.md]'
    + ' [--espruino PATH (board; or ESPRUINO_BIN)] [--peer PATH (board: a library to run beside Sparrow\'s)]';
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    suites: [],
    runs: Number(process.env.SPARROW_BENCH_RUNS) || 5,
    write: process.env.SPARROW_BENCH_WRITE || null,
    quick: false,
    espruino: process.env.ESPRUINO_BIN || undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new UsageError(a + ' needs a value\n' + usage());
      return v;
    };
    if (a === '--runs' || a.startsWith('--runs=')) args.runs = Number(value());
    else if (a === '--write' || a.startsWith('--write=')) args.write = value();
    else if (a === '--quick') { args.quick = true; args.runs = 3; }
    else if (a === '--espruino' || a.startsWith('--espruino=')) args.espruino = value();
    else if (a === '--peer' || a.startsWith('--peer=')) args.peer = value();
    else if (a === '--help' || a === '-h') { console.log(usage()); process.exit(0); }
    else {
      const s = SUITES.find((x) => x.name === a);
      if (!s) throw new UsageError('unknown suite or option ' + a + '\n' + usage());
      args.suites.push(s);
    }
  }
  // a median of fewer than 3 runs is not a median; 5 is the reporting minimum, 3 is allowed for quick looks
  if (!(args.runs >= 3 && Number.isInteger(args.runs))) throw new UsageError('--runs must be an integer >= 3');
  if (args.espruino && espruinoError(args.espruino)) throw new UsageError('--espruino / ESPRUINO_BIN: ' + espruinoError(args.espruino));
  if (args.peer && !fs.existsSync(args.peer)) throw new UsageError('--peer: ' + args.peer + ': no such file');
  if (args.suites.includes(board) && !args.espruino) throw new UsageError('the board suite needs the interpreter: --espruino PATH or ESPRUINO_BIN');
  if (!args.suites.length) args.suites = SUITES.filter((s) => s !== board || args.espruino);
  for (const s of args.suites) {
    const problem = s.settingsError ? s.settingsError() : null;
    if (problem) throw new UsageError(problem);
  }
  return args;
}

export async function main(argv: string[]): Promise<void> {
  const request = process.env[CHILD_ENV];
  if (request) return serveChild(SUITES, request);

  const args = parseArgs(argv);
  const m = machine();
  console.log('# Sparrow benchmarks\n\n' + describeMachine(m) + '\n');
  for (const suite of args.suites) {
    const started = Date.now();
    const body = await suite.run({
      runs: args.runs, quick: args.quick, espruino: args.espruino, peer: args.peer,
      log: (msg) => process.stderr.write('[' + suite.name + '] ' + msg + '\n'),
    });
    console.log('## ' + suite.section + '\n\n' + body + '\n');
    process.stderr.write('[' + suite.name + '] done in ' + ((Date.now() - started) / 1000).toFixed(0) + ' s\n');
    if (args.write) {
      updateReport(args.write, suite.name, suite.section, body, m);
      process.stderr.write('[' + suite.name + '] updated ' + args.write + '\n');
    }
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(e instanceof UsageError ? 2 : 1);
  });
}
