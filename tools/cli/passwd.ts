// `sparrow passwd`: adds, changes and deletes users of a broker password file, in mosquitto_passwd's
// format and with its flags (-c, -D, -b), so that either tool can manage a file the other one reads.
import * as fs from 'fs';
import { passwdLine } from '../../broker/passwd';

export const PASSWD_OPTIONS = {
  create: { type: 'boolean', short: 'c' },
  delete: { type: 'boolean', short: 'D' },
  batch: { type: 'boolean', short: 'b' },
} as const;

export const PASSWD_HELP = [
  '  -c            create the file (replacing one that exists)',
  '  -D            delete the user instead',
  '  -b            batch mode: the password is the third argument (else it is read from stdin, one line)',
  'The line written is user:$7$101$SALT$HASH (PBKDF2-SHA512, as mosquitto_passwd writes it).',
];

type Values = { [k: string]: string | boolean | undefined };

/** Runs the command; returns the exit code (2 for bad usage, before the file is touched). */
export function passwdCommand(values: Values, args: string[]): number {
  const fail = (why: string, code = 2) => { console.error(`sparrow passwd: ${why}`); return code; };
  const [file, user, given] = args;
  const wanted = values.delete ? 2 : values.batch ? 3 : 2;
  if (args.length !== wanted) return fail(`expected FILE USER${values.batch ? ' PASSWORD' : ''}, got ${args.length} argument(s)`);
  if (values.create && values.delete) return fail('-c and -D do not go together');
  if (!values.create && !fs.existsSync(file)) return fail(`${file} does not exist (-c creates it)`);
  const lines = values.create ? [] : fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  const mine = (l: string) => l.startsWith(user + ':');
  if (values.delete) {
    if (!lines.some(mine)) return fail(`user "${user}" is not in ${file}`, 1);
    return write(file, lines.filter((l) => !mine(l)));
  }
  let password = given;
  if (password === undefined) {
    if (process.stdin.isTTY) return fail('give the password on stdin, or with -b as the third argument');
    password = fs.readFileSync(0, 'utf8').split(/\r?\n/)[0];
  }
  if (!password) return fail('the password is empty');
  let line: string;
  try { line = passwdLine(user, password); } catch (e) { return fail((e as Error).message); }
  const at = lines.findIndex(mine);
  if (at >= 0) lines[at] = line;
  else lines.push(line);
  return write(file, lines);
}

function write(file: string, lines: string[]): number {
  fs.writeFileSync(file, lines.map((l) => l + '\n').join(''), { mode: 0o600 });
  return 0;
}
