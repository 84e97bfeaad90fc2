// The password file: `user:HASH` lines in mosquitto_passwd's formats, so that a mosquitto user's file
// works unchanged, and the older forms this broker read before. A line is never echoed in an error: it
// may hold a password.
//   user:$7$ITERATIONS$SALT$HASH  PBKDF2-HMAC-SHA512 (mosquitto 2.0's default), base64 12-byte salt, 64-byte hash
//   user:$6$SALT$HASH             SHA-512 of password then salt (mosquitto 1.6 and earlier)
//   user:sha256:HEX               SHA-256 of the password, unsalted (this broker's old form, read only)
//   user:PASSWORD                 the password itself (read only)
import { createHash, pbkdf2Sync, randomBytes, timingSafeEqual } from 'crypto';

/** mosquitto_passwd's choices: 12-byte salt, 64-byte SHA-512 output, 101 PBKDF2 iterations. */
const SALT_BYTES = 12, HASH_BYTES = 64, DEFAULT_ITERATIONS = 101;
/** More iterations than this in a file would let one CONNECT stall the broker for seconds. */
const MAX_ITERATIONS = 1_000_000;

export type Verifier = (password: Buffer) => boolean;

/** Parses a password file into user name → verifier; throws naming `file`, the line and the user, never the secret. */
export function parsePasswd(text: string, file: string): Map<string, Verifier> {
  const users = new Map<string, Verifier>();
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].replace(/\r$/, '');
    if (!line.trim() || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`${file}:${n + 1}: not user:password (the line is not shown: it may hold a password)`);
    const user = line.slice(0, colon);
    const verify = verifier(line.slice(colon + 1));
    if (!verify) throw new Error(`${file}:${n + 1}: the password hash of user "${user}" is malformed`);
    users.set(user, verify);
  }
  return users;
}

function verifier(stored: string): Verifier | null {
  if (stored.startsWith('$7$') || stored.startsWith('$6$')) return saltedSha512(stored);
  if (stored.startsWith('sha256:')) {
    const expected = /^[0-9a-fA-F]{64}$/.test(stored.slice(7)) ? Buffer.from(stored.slice(7), 'hex') : null;
    return expected && ((p) => timingSafeEqual(createHash('sha256').update(p).digest(), expected));
  }
  const plain = Buffer.from(stored, 'utf8');
  return (p) => p.length === plain.length && timingSafeEqual(p, plain);
}

/** `$7$ITERATIONS$SALT$HASH` or `$6$SALT$HASH`, checked as mosquitto checks them (salt 12 bytes, hash 64). */
function saltedSha512(stored: string): Verifier | null {
  const parts = stored.split('$'); // ['', '7', iterations, salt, hash] or ['', '6', salt, hash]
  const pbkdf2 = parts[1] === '7';
  if (parts.length !== (pbkdf2 ? 5 : 4)) return null;
  const iterations = pbkdf2 ? Number(parts[2]) : 0;
  if (pbkdf2 && !(/^\d+$/.test(parts[2]) && iterations >= 1 && iterations <= MAX_ITERATIONS)) return null;
  const salt = base64(parts[parts.length - 2]), hash = base64(parts[parts.length - 1]);
  if (!salt || salt.length !== SALT_BYTES || !hash || hash.length !== HASH_BYTES) return null;
  return (p) => timingSafeEqual(pbkdf2 ? pbkdf2Sync(p, salt, iterations, HASH_BYTES, 'sha512')
    : createHash('sha512').update(p).update(salt).digest(), hash);
}

function base64(s: string): Buffer | null {
  return /^[A-Za-z0-9+/]+={0,2}$/.test(s) && s.length % 4 === 0 ? Buffer.from(s, 'base64') : null;
}

/** A password file line in mosquitto_passwd's default format (`$7$`, a fresh random salt). */
export function passwdLine(user: string, password: string, iterations = DEFAULT_ITERATIONS): string {
  if (!user || user.includes(':') || /[\r\n]/.test(user)) throw new Error(`user name "${user}" may not be empty or hold ":" or a line break`);
  const salt = randomBytes(SALT_BYTES);
  const hash = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, HASH_BYTES, 'sha512');
  return `${user}:$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}
