// Subscriptions as a tree of topic levels. Matching a topic walks at most its levels (times the `+`
// and `#` branches on the way), so its cost depends on the topic and the filters that match, never on
// how many subscriptions exist. Shared subscriptions hang off the node of their filter, per group.
import type { QoS } from '../firmware/mqtt';

/** One subscription of one session, as the tree keeps it. */
export interface SubEntry<S> {
  session: S;
  /** The filter as the client sent it (with `$share/group/` for shared ones). */
  filter: string;
  qos: QoS;
  nl: boolean;
  rap: boolean;
  rh: number;
  id?: number;
  group?: string;
}

/**
 * One topic level. The wildcard children are fields, read on every level of every match, and the map
 * of the others is made with the first one: a fleet's 100,000 leaves (`fleet/in/<id>`) have none.
 */
class Node<S> {
  children: Map<string, Node<S>> | null = null;
  plus: Node<S> | null = null;
  hash: Node<S> | null = null;
  subs: Map<S, SubEntry<S>> | null = null;
  shared: Map<string, SharedGroup<S>> | null = null;

  child(level: string): Node<S> | undefined {
    if (level === '+') return this.plus || undefined;
    if (level === '#') return this.hash || undefined;
    return this.children ? this.children.get(level) : undefined;
  }

  /** The child for `level`, made if there is none. */
  grow(level: string): Node<S> {
    const known = this.child(level);
    if (known) return known;
    const child = new Node<S>();
    if (level === '+') this.plus = child;
    else if (level === '#') this.hash = child;
    else (this.children || (this.children = new Map())).set(level, child);
    return child;
  }

  drop(level: string): void {
    if (level === '+') this.plus = null;
    else if (level === '#') this.hash = null;
    else if (this.children) this.children.delete(level);
  }

  get empty(): boolean {
    return !(this.children && this.children.size) && !this.plus && !this.hash && !(this.subs && this.subs.size) && !(this.shared && this.shared.size);
  }
}

/** A shared subscription: members take turns, round-robin. */
export class SharedGroup<S> {
  members: SubEntry<S>[] = [];
  next = 0;
  constructor(readonly name: string) {}
}

/** Where a matching walk reports: every plain entry, and every shared group, that match. */
export interface MatchVisitor<S> {
  entry(e: SubEntry<S>): void;
  group(g: SharedGroup<S>): void;
}

export class TopicTree<S> {
  private root = new Node<S>();
  size = 0;

  add(levelsFilter: string, e: SubEntry<S>): void {
    let node = this.root;
    for (const level of levelsFilter.split('/')) node = node.grow(level);
    if (e.group === undefined) {
      if (!node.subs) node.subs = new Map();
      if (!node.subs.has(e.session)) this.size++;
      node.subs.set(e.session, e);
      return;
    }
    if (!node.shared) node.shared = new Map();
    let g = node.shared.get(e.group);
    if (!g) node.shared.set(e.group, (g = new SharedGroup<S>(e.group)));
    const i = g.members.findIndex((m) => m.session === e.session);
    if (i >= 0) g.members[i] = e;
    else { g.members.push(e); this.size++; }
  }

  remove(levelsFilter: string, session: S, group?: string): boolean {
    const path: Node<S>[] = [this.root];
    const levels = levelsFilter.split('/');
    for (const level of levels) {
      const child = path[path.length - 1].child(level);
      if (!child) return false;
      path.push(child);
    }
    const node = path[path.length - 1];
    let removed = false;
    if (group === undefined) removed = !!node.subs && node.subs.delete(session);
    else if (node.shared) {
      const g = node.shared.get(group);
      const i = g ? g.members.findIndex((m) => m.session === session) : -1;
      if (g && i >= 0) {
        g.members.splice(i, 1);
        removed = true;
        if (!g.members.length) node.shared.delete(group);
      }
    }
    if (removed) this.size--;
    // prune empty nodes bottom-up so the tree does not keep the shape of old subscriptions
    for (let i = levels.length; i > 0 && path[i].empty; i--) path[i - 1].drop(levels[i - 1]);
    return removed;
  }

  /**
   * Visits every subscription matching `topic` ([MQTT-4.7.2-1]: wildcards first never match `$` topics),
   * depth first, a `+` branch before the exact one. A loop, not recursion (a topic's depth is the
   * client's choice): it follows one branch and stacks the exact one where a `+` branch also matches.
   */
  match(topic: string, visit: MatchVisitor<S>): void {
    const levels = topic.split('/'), n = levels.length;
    let node: Node<S> | undefined = this.root, i = 0, wild = topic.charCodeAt(0) !== 36;
    let later: (Node<S> | number)[] | null = null; // exact branches still to walk, and their depths
    for (;;) {
      if (wild && node.hash) this.report(node.hash, visit); // `a/#` matches `a` too [MQTT-4.7.1-2]
      let next: Node<S> | undefined;
      if (i === n) this.report(node, visit);
      else {
        next = node.children ? node.children.get(levels[i]) : undefined;
        if (wild && node.plus) {
          if (next) (later || (later = [])).push(next, i + 1);
          next = node.plus;
        }
      }
      if (next) { node = next; i++; }
      else if (later && later.length) { i = later.pop() as number; node = later.pop() as Node<S>; }
      else return;
      wild = true;
    }
  }

  private report(node: Node<S>, visit: MatchVisitor<S>): void {
    if (node.subs) for (const e of node.subs.values()) visit.entry(e);
    if (node.shared) for (const g of node.shared.values()) visit.group(g);
  }
}

/** How many levels a topic or filter has (`a/b` 2, `/` 2, `a` 1), without splitting it. */
export function levelCount(topic: string): number {
  let n = 1;
  for (let i = topic.indexOf('/'); i >= 0; i = topic.indexOf('/', i + 1)) n++;
  return n;
}

/** Splits `$share/group/filter` into its parts; null for an ordinary filter, 'invalid' for a bad share. */
export function parseShared(filter: string): { group: string; filter: string } | null | 'invalid' {
  if (!filter.startsWith('$share/')) return null;
  const slash = filter.indexOf('/', 7);
  if (slash < 0) return 'invalid';
  const group = filter.slice(7, slash), rest = filter.slice(slash + 1);
  if (!group || /[+#]/.test(group) || !rest) return 'invalid'; // [MQTT-4.8.2-1], [MQTT-4.8.2-2]
  return { group, filter: rest };
}
