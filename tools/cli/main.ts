// The `sparrow` command. Subcommands are entries of one table, so broker, sim, monitor and the rest
// arrive as new entries without touching the dispatch. Exit codes: 0 ok, 1 failure, 2 bad usage; a
// usage error is one line and a hint to the command's help, never the whole help.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs, type ParseArgsConfig } from 'util';
import { VERSION } from '../../firmware/version';
import { PUB_HELP, PUB_OPTIONS, runPub } from '../mqtt-cli/pub';
import { SUB_HELP, SUB_OPTIONS, runSub } from '../mqtt-cli/sub';
import { BROKER_OPTION_HELP, BROKER_OPTIONS, runBroker } from './broker';
import { PASSWD_HELP, PASSWD_OPTIONS, passwdCommand } from './passwd';
import { SIM_HELP, SIM_OPTIONS, simCommand } from './sim';
import { mergeCommand } from './sim-merge';
import { SERIAL_COMMANDS } from './serial';
import { UsageError } from './usage';

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
    run: optionsOnly(runBroker),
  },
  passwd: {
    args: '[-c | -D] [-b] FILE USER [PASSWORD]',
    summary: 'Add, change or delete a user of a broker password file (mosquitto_passwd\'s format and flags).',
    optionHelp: PASSWD_HELP,
    options: PASSWD_OPTIONS,
    run: (values, args) => passwdCommand(values as { [k: string]: string | boolean | undefined }, args),
  },
  sim: {
    args: '[options] | merge SHARD.json...',
    summary: 'Run a fleet of simulated boards (the flashed bundle) against a broker, with faults; report delivery and latency.',
    optionHelp: SIM_HELP,
    options: SIM_OPTIONS,
    // `sparrow sim merge a.json b.json ...` combines shards' reports; any other argument is a usage error
    run: (values, positionals) => (positionals[0] === 'merge' ? mergeCommand(positionals.slice(1), values as { [k: string]: string | undefined }) : optionsOnly(simCommand)(values, positionals)),
  },
  pub: {
    args: '-t TOPIC -m MSG [options]',
    summary: 'Publish a message, as mosquitto_pub does (same flags): to any broker, or a command to a fleet board.',
    optionHelp: PUB_HELP,
    options: PUB_OPTIONS,
    run: optionsOnly(runPub),
  },
  sub: {
    args: '-t FILTER [options]',
    summary: 'Subscribe and print messages, as mosquitto_sub does (same flags).',
    optionHelp: SUB_HELP,
    options: SUB_OPTIONS,
    run: optionsOnly(runSub),
  },
  ...SERIAL_COMMANDS,
};

/** The run of a command that takes options only: a stray argument is a usage error (exit 2). */
function optionsOnly(run: (values: any) => number | Promise<number>): Command['run'] {
  return (values, positionals) => {
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    return run(values);
  };
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
    '', 'Options:', '  -h, --help, help [command]  this help, or a command\'s', '  -V, --version               print the version',
  ].join('\n');
}

/** pub and sub take -h as the host, as mosquitto_pub/sub do: their help is --help only. */
function helpOption(cmd: Command): Options {
  const hostIsH = Object.values(cmd.options || {}).some((o) => o.short === 'h');
  return { help: hostIsH ? { type: 'boolean' } : { type: 'boolean', short: 'h' } };
}

function commandUsage(name: string, cmd: Command): string {
  const help = helpOption(cmd).help.short ? '  -h, --help    this help' : '      --help          this help';
  return [`Usage: sparrow ${name} ${cmd.args}`, '', cmd.summary, '', 'Options:', help, ...(cmd.optionHelp || [])].join('\n');
}

/** Node's parseArgs message, first sentence only ("Unknown option '--nope'"), without its advice on positionals. */
function parseError(e: Error): string {
  const first = e.message.split(/\. /)[0].replace(/\.$/, '');
  return first.charAt(0).toLowerCase() + first.slice(1);
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '-h' || name === '--help') return print(usage(), 0);
  if (name === '-V' || name === '-v' || name === '--version') return print(VERSION, 0);
  if (name === 'help' && rest.length === 0) return print(usage(), 0);
  if (name === 'help') return COMMANDS[rest[0]] ? print(commandUsage(rest[0], COMMANDS[rest[0]]), 0) : usageError('sparrow', `unknown command "${rest[0]}"`, 'sparrow help');
  if (name === undefined) return print(usage(), 2);
  const cmd = COMMANDS[name];
  if (!cmd) return usageError('sparrow', `unknown command "${name}"`, 'sparrow help');
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, options: { ...helpOption(cmd), ...cmd.options }, allowPositionals: true, strict: true });
  } catch (e) {
    return usageError('sparrow ' + name, parseError(e as Error), `sparrow ${name} --help`);
  }
  if (parsed.values.help) return print(commandUsage(name, cmd), 0);
  try {
    return await cmd.run(parsed.values, parsed.positionals);
  } catch (e) {
    if (e instanceof UsageError) return usageError('sparrow ' + name, e.message, `sparrow ${name} --help`);
    throw e;
  }
}

/** A usage error: one line, and where to read more; exit 2. */
function usageError(who: string, message: string, help: string): number {
  return print(`${who}: ${message}\nsee ${help}`, 2);
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
