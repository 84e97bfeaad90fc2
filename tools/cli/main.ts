// The `sparrow` command. Subcommands are entries of one table, so broker, sim, monitor and the rest
// arrive as new entries without touching the dispatch. Exit codes: 0 ok, 1 failure, 2 bad usage.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs, type ParseArgsConfig } from 'util';
import { VERSION } from '../../firmware/version';
import { BROKER_OPTION_HELP, BROKER_OPTIONS, runBroker } from './broker';
import { SIM_HELP, SIM_OPTIONS, simCommand } from './sim';
import { SERIAL_COMMANDS } from './serial';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = ReturnType<typeof parseArgs>['values'];

interface Command {
  /** Arguments after the command name, for the usage line. */
  args: string;
  summary: string;
  /** Option lines for `--help`, beyond -h itself. */
  optionHelp?: string[];
  options?: Options;
  run(values: Values, positionals: string[]): number | Promise<number>;
}

const COMMANDS: { [name: string]: Command } = {
  bench: {
    args: '[suite...]',
    summary: 'Run the benchmarks, all or the named suites (e.g. `sparrow bench codec`, `sparrow bench board`), in dist/node/bench.js.',
    optionHelp: ['  --runs N         runs per table cell, each in a fresh process (default 5, at least 3)',
      '  --write FILE     also replace the suites\' sections of a markdown report (docs/benchmarks.md)',
      '  --quick          3 runs and shorter windows, for a quick look',
      '  --espruino PATH  the Espruino interpreter (a Linux build) for the board suite; or ESPRUINO_BIN',
      '  --peer PATH      board suite: a library to measure beside Sparrow\'s (Espruino\'s MQTT module, minified)'],
    options: { runs: { type: 'string' }, write: { type: 'string' }, quick: { type: 'boolean' }, espruino: { type: 'string' }, peer: { type: 'string' } },
    run: (values, suites) => runScript('bench.js', suites.concat(forward(values, ['runs', 'write', 'espruino', 'peer']), values.quick ? ['--quick'] : [])),
  },
  broker: {
    args: '[options]',
    summary: 'Run the reference MQTT broker (TCP, TLS, WebSocket and the dashboard) until SIGINT or SIGTERM.',
    optionHelp: BROKER_OPTION_HELP,
    options: BROKER_OPTIONS,
    run: optionsOnly('broker', runBroker),
  },
  sim: {
    args: '[options]',
    summary: 'Run a fleet of simulated boards (the flashed bundle) against a broker, with faults; report delivery and latency.',
    optionHelp: SIM_HELP,
    options: SIM_OPTIONS,
    run: optionsOnly('sim', simCommand),
  },
  ...SERIAL_COMMANDS,
};

/** The run of a command that takes options only: a stray argument is a usage error (exit 2). */
function optionsOnly(name: string, run: (values: { [k: string]: string | boolean | undefined }) => number | Promise<number>): Command['run'] {
  return (values, positionals) => positionals.length
    ? print(`sparrow ${name}: unexpected argument "${positionals[0]}"`, 2)
    : run(values as { [k: string]: string | boolean | undefined });
}

/** Parsed string options back as arguments, for a command that runs a script with its own parser. */
function forward(values: Values, names: string[]): string[] {
  const args: string[] = [];
  for (const name of names) {
    const value = values[name];
    if (typeof value === 'string') args.push('--' + name, value);
  }
  return args;
}

/** Runs a sibling script of the built CLI (dist/node/) in its own process, passing its exit code on. */
function runScript(script: string, args: string[]): number {
  const file = path.join(__dirname, script);
  if (!fs.existsSync(file)) {
    console.error(`sparrow: ${file} is missing; run \`npm run build\` first`);
    return 1;
  }
  const child = spawnSync(process.execPath, [file, ...args], { stdio: 'inherit' });
  return child.status === null ? 1 : child.status;
}

function usage(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => (n + ' ' + COMMANDS[n].args).length));
  return [
    'Usage: sparrow <command> [options]', '', 'Commands:',
    ...names.map((n) => `  ${(n + ' ' + COMMANDS[n].args).padEnd(width)}  ${COMMANDS[n].summary}`),
    '', 'Options:', '  -h, --help     this help; `sparrow <command> --help` for a command', '  -v, --version  print the version',
  ].join('\n');
}

function commandUsage(name: string, cmd: Command): string {
  return [`Usage: sparrow ${name} ${cmd.args}`, '', cmd.summary, '', 'Options:', '  -h, --help    this help', ...(cmd.optionHelp || [])].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '-h' || name === '--help') return print(usage(), 0);
  if (name === '-v' || name === '--version') return print(VERSION, 0);
  const cmd = name === undefined ? undefined : COMMANDS[name];
  if (!cmd) return print((name === undefined ? '' : `sparrow: unknown command "${name}"\n\n`) + usage(), 2);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, options: { help: { type: 'boolean', short: 'h' }, ...cmd.options }, allowPositionals: true, strict: true });
  } catch (e) {
    return print(`sparrow ${name}: ${(e as Error).message}\n\n${commandUsage(name, cmd)}`, 2);
  }
  if (parsed.values.help) return print(commandUsage(name, cmd), 0);
  return cmd.run(parsed.values, parsed.positionals);
}

/** Help asked for goes to stdout; usage shown because of an error goes to stderr. */
function print(text: string, code: number): number {
  (code === 0 ? console.log : console.error)(text);
  return code;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => { console.error(e); process.exitCode = 1; },
);
