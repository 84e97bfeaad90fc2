// Who may connect (a file of `user:password` lines) and which topics each user may read and write
// (an ACL file of topic patterns). Both are read once at start; see docs/broker.md for the formats.
import { createHash, timingSafeEqual } from 'crypto';
import * as fs from 'fs';
import { topicMatches } from '../firmware/mqtt';

export type Access = 'read' | 'write';

interface Rule { read: boolean; write: boolean; filter: string; }

export class Auth {
  private users: Map<string, string> | null = null;
  private rules: { global: Rule[]; patterns: Rule[]; perUser: Map<string, Rule[]> } | null = null;

  constructor(options: { passwd?: string; acl?: string; allowAnonymous?: boolean }) {
    if (options.passwd) this.users = parsePasswd(fs.readFileSync(options.passwd, 'utf8'));
    if (options.acl) this.rules = parseAcl(fs.readFileSync(options.acl, 'utf8'));
    this.allowAnonymous = options.allowAnonymous ?? !options.passwd;
  }
  private allowAnonymous: boolean;

  /** True when the user may connect: anonymous where allowed, else a known user with the right password. */
  login(username: string | undefined, password: Uint8Array | undefined): boolean {
    if (username === undefined) return this.allowAnonymous;
    if (!this.users) return true;
    const stored = this.users.get(username);
    if (stored === undefined || password === undefined) return false;
    return checkPassword(stored, Buffer.from(password));
  }

  /** May `username` (undefined: anonymous) with `clientId` publish to (write) or subscribe to (read) `topic`? */
  allowed(access: Access, topic: string, username: string | undefined, clientId: string): boolean {
    const r = this.rules;
    if (!r) return true;
    const test = (rule: Rule, filter: string) => rule[access] && (access === 'write' ? topicMatches(filter, topic) : filterCovers(filter, topic));
    for (const rule of r.global) if (test(rule, rule.filter)) return true;
    if (username !== undefined) {
      for (const rule of r.perUser.get(username) || []) if (test(rule, rule.filter)) return true;
    }
    for (const rule of r.patterns) {
      if (username === undefined && rule.filter.includes('%u')) continue;
      if (test(rule, rule.filter.replace(/%u/g, username || '').replace(/%c/g, clientId))) return true;
    }
    return false;
  }
}

/** `user:password` (plain) or `user:sha256:HEX` lines; `#` starts a comment. */
export function parsePasswd(text: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`passwd: line "${line}" is not user:password`);
    users.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return users;
}

function checkPassword(stored: string, given: Buffer): boolean {
  const expected = stored.startsWith('sha256:') ? Buffer.from(stored.slice(7), 'hex') : Buffer.from(stored, 'utf8');
  const actual = stored.startsWith('sha256:') ? createHash('sha256').update(given).digest() : given;
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * Mosquitto-like ACL lines: `topic [read|write|readwrite] FILTER` (for everyone before the first `user`
 * line, then for that user), `user NAME`, and `pattern [access] FILTER` with %u (user) and %c (client id).
 */
export function parseAcl(text: string) {
  const global: Rule[] = [], patterns: Rule[] = [], perUser = new Map<string, Rule[]>();
  let current: Rule[] = global;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const words = line.split(/\s+/);
    const kind = words[0];
    if (kind === 'user') {
      const name = line.slice(4).trim();
      if (!perUser.has(name)) perUser.set(name, []);
      current = perUser.get(name)!;
      continue;
    }
    if (kind !== 'topic' && kind !== 'pattern') throw new Error(`acl: cannot read "${line}"`);
    let access = 'readwrite', filter = words.slice(1).join(' ');
    if (/^(read|write|readwrite|deny)$/.test(words[1]) && words.length > 2) {
      access = words[1];
      filter = words.slice(2).join(' ');
    }
    const rule = { read: access === 'read' || access === 'readwrite', write: access === 'write' || access === 'readwrite', filter };
    (kind === 'pattern' ? patterns : current).push(rule);
  }
  return { global, patterns, perUser };
}

/** True when every topic `sub` can match is matched by `acl` too (a subscription inside the allowed space). */
export function filterCovers(acl: string, sub: string): boolean {
  const a = acl.split('/'), s = sub.split('/');
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '#') return true;
    if (i >= s.length) return false;
    if (s[i] === '#') return false;
    if (a[i] === '+') continue;
    if (s[i] === '+' || a[i] !== s[i]) return false;
  }
  return a.length === s.length;
}
