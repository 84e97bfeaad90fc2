// The ACL file, in mosquitto's format: which topics each client may read (subscribe to, and receive)
// and write (publish to). See docs/broker.md ("ACL file") for the semantics this implements.
import { topicMatches, validTopicFilter } from '../firmware/mqtt';

export type Access = 'read' | 'write';
type RuleAccess = Access | 'readwrite' | 'deny';

interface Rule {
  access: RuleAccess;
  filter: string;
}

export interface Acl {
  /** `topic` lines before the first `user` line: for every client. */
  global: Rule[];
  /** `topic` lines after `user NAME`: for that user. */
  perUser: Map<string, Rule[]>;
  /** `pattern` lines, wherever they stand: for every client, with %u and %c substituted. */
  patterns: Rule[];
}

const ACCESS = new Set<string>(['read', 'write', 'readwrite', 'deny']);

/**
 * Parses an ACL file. Every line is a comment (`#` first), blank, `user NAME`,
 * `topic [ACCESS] FILTER` or `pattern [ACCESS] FILTER`; anything else throws, naming `file` and the line.
 */
export function parseAcl(text: string, file: string): Acl {
  const acl: Acl = { global: [], perUser: new Map(), patterns: [] };
  let current = acl.global;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (!line || line.startsWith('#')) continue;
    const fail = (why: string) => new Error(`${file}:${n + 1}: ${why}: ${line}`);
    const kind = /^\S+/.exec(line)![0];
    const rest = line.slice(kind.length).trim();
    if (kind === 'user') {
      if (!rest) throw fail('user without a name');
      if (!acl.perUser.has(rest)) acl.perUser.set(rest, []);
      current = acl.perUser.get(rest)!;
      continue;
    }
    if (kind !== 'topic' && kind !== 'pattern') throw fail('not a topic, pattern or user line');
    if (!rest) throw fail(`${kind} without a filter`);
    // like mosquitto: one word is the filter; with more, the first word is the access
    const space = rest.search(/\s/);
    const access = space < 0 ? 'readwrite' : rest.slice(0, space);
    const filter = space < 0 ? rest : rest.slice(space).trim();
    if (!ACCESS.has(access)) throw fail(`access "${access}" is not read, write, readwrite or deny`);
    if (!validTopicFilter(filter)) throw fail(`"${filter}" is not a valid topic filter`);
    (kind === 'pattern' ? acl.patterns : current).push({ access: access as RuleAccess, filter });
  }
  return acl;
}

/** The rules that apply to one client, its %u and %c substituted: worked out once, checked per message. */
export interface ClientRules {
  deny: string[];
  read: string[];
  write: string[];
}

/**
 * The rules for a client: those before the first `user` line, those of its user name, and every pattern
 * that applies to it (see substitute).
 */
export function rulesFor(acl: Acl, username: string | undefined, clientId: string): ClientRules {
  const r: ClientRules = { deny: [], read: [], write: [] };
  const add = (access: RuleAccess, filter: string) => {
    if (access === 'deny') { r.deny.push(filter); return; }
    if (access !== 'write') r.read.push(filter);
    if (access !== 'read') r.write.push(filter);
  };
  for (const rule of acl.global) add(rule.access, rule.filter);
  const own = username !== undefined ? acl.perUser.get(username) : undefined;
  if (own) for (const rule of own) add(rule.access, rule.filter);
  for (const rule of acl.patterns) {
    const filter = substitute(rule.filter, username, clientId);
    if (filter !== null) add(rule.access, filter);
  }
  return r;
}

/**
 * May the client publish to (`write`) topic `t`, subscribe to (`read`) filter `t`, or receive (`read`) a
 * message on topic `t`? A deny rule that covers `t` refuses it, whatever grants it too; then any grant
 * whose filter covers `t` allows it; nothing else is allowed. A subscription that a deny rule only
 * overlaps (`#` beside `deny secret/#`) is allowed, and the denied messages are held back at delivery.
 */
export function rulesAllow(r: ClientRules, access: Access, t: string): boolean {
  for (let i = 0; i < r.deny.length; i++) if (covers(r.deny[i], t)) return false;
  const grants = r[access];
  for (let i = 0; i < grants.length; i++) if (covers(grants[i], t)) return true;
  return false;
}

/** rulesAllow for a client given by user name and client id. */
export function aclAllows(acl: Acl, access: Access, t: string, username: string | undefined, clientId: string): boolean {
  return rulesAllow(rulesFor(acl, username, clientId), access, t);
}

/**
 * The pattern with %u and %c replaced, or null when the rule does not apply: %u for an anonymous client,
 * or a user name or client id holding `+`, `#` or `/`, which would turn the substituted text into wildcards
 * or into other clients' levels (mosquitto's fix for CVE-2017-7650). Substituted text is never a wildcard.
 */
function substitute(pattern: string, username: string | undefined, clientId: string): string | null {
  let ok = true;
  const filter = pattern.replace(/%[uc]/g, (m) => {
    const value = m === '%u' ? username : clientId;
    if (value === undefined || /[+#/]/.test(value)) { ok = false; return ''; }
    return value;
  });
  return ok ? filter : null;
}

/**
 * True when every topic `t` can match (a topic name matches only itself) is matched by `rule`. A topic or
 * filter starting with `$` is covered only by a rule that starts with `$` too (as in mosquitto).
 */
export function covers(rule: string, t: string): boolean {
  if (t.charCodeAt(0) === 36 /* $ */ && rule.charCodeAt(0) !== 36) return false;
  if (t.indexOf('+') < 0 && t.indexOf('#') < 0) return topicMatches(rule, t);
  const a = rule.split('/'), s = t.split('/');
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '#') return true;
    if (i >= s.length) return false;
    if (s[i] === '#') return false;
    if (a[i] === '+') continue;
    if (s[i] === '+' || a[i] !== s[i]) return false;
  }
  return a.length === s.length;
}
