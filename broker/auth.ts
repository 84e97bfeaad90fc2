// Who may connect (the password file, broker/passwd.ts) and which topics each client may read and write
// (the ACL file, broker/acl.ts). Both are read once at start; see docs/broker.md for the formats.
import * as fs from 'fs';
import { parseAcl, rulesAllow, rulesFor, type Access, type Acl, type ClientRules } from './acl';
import { parsePasswd, type Verifier } from './passwd';

/** Clients whose worked-out ACL rules are kept (the cache starts over when full). */
const RULES_CACHED = 10000;

export class Auth {
  private users: Map<string, Verifier> | null = null;
  private acl: Acl | null = null;
  private allowAnonymous: boolean;

  constructor(options: { passwd?: string; acl?: string; allowAnonymous?: boolean }) {
    if (options.passwd) this.users = parsePasswd(fs.readFileSync(options.passwd, 'utf8'), options.passwd);
    if (options.acl) this.acl = parseAcl(fs.readFileSync(options.acl, 'utf8'), options.acl);
    this.allowAnonymous = options.allowAnonymous ?? !options.passwd;
  }

  /** True when the user may connect: anonymous where allowed, else a known user with the right password. */
  login(username: string | undefined, password: Uint8Array | undefined): boolean {
    if (username === undefined) return this.allowAnonymous;
    if (!this.users) return true;
    const verify = this.users.get(username);
    if (verify === undefined || password === undefined) return false;
    return verify(Buffer.from(password));
  }

  /**
   * May `username` (undefined: anonymous) with `clientId` publish to (write) topic `t`, subscribe to
   * (read) filter `t`, or receive (read) a message on topic `t`?
   */
  allowed(access: Access, t: string, username: string | undefined, clientId: string): boolean {
    if (this.acl === null) return true;
    // read access is checked per delivered message: a client's rules are worked out once, not per message
    const key = (username === undefined ? '-' : '+' + username) + '\u0000' + clientId;
    let rules = this.rulesCache.get(key);
    if (!rules) {
      if (this.rulesCache.size >= RULES_CACHED) this.rulesCache.clear();
      this.rulesCache.set(key, (rules = rulesFor(this.acl, username, clientId)));
    }
    return rulesAllow(rules, access, t);
  }
  private rulesCache = new Map<string, ClientRules>();
}
