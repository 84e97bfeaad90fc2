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

class Node<S> {
  children = new Map<string, Node<S>>();
  subs: Map<S, SubEntry<S>> | null = null;
  shared: Map<string, SharedGroup<S>> | null = null;
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
    for (const level of levelsFilter.split('/')) {
      let child = node.children.get(level);
      if (!child) node.children.set(level, (child = new Node<S>()));
      node = child;
    }
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
      const child = path[path.length - 1].children.get(level);
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
    for (let i = levels.length; i > 0; i--) {
      const n = path[i];
      if (n.children.size || (n.subs && n.subs.size) || (n.shared && n.shared.size)) break;
      path[i - 1].children.delete(levels[i - 1]);
    }
    return removed;
  }

  /**
   * Visits every subscription matching `topic` ([MQTT-4.7.2-1]: wildcards first never match `$` topics).
   * A loop over an explicit stack, not recursion: a topic's depth is the client's choice.
   */
  match(topic: string, visit: MatchVisitor<S>): void {
    const levels = topic.split('/');
    const dollar = topic.charCodeAt(0) === 36;
    const nodes: Node<S>[] = [this.root], depths: number[] = [0];
    while (nodes.length) {
      const node = nodes.pop()!, i = depths.pop()!;
      const wild = !(dollar && i === 0);
      if (wild) {
        const hash = node.children.get('#');
        if (hash) this.report(hash, visit); // `a/#` matches `a` too [MQTT-4.7.1-2]
      }
      if (i === levels.length) { this.report(node, visit); continue; }
      const exact = node.children.get(levels[i]);
      if (exact) { nodes.push(exact); depths.push(i + 1); }
      if (wild) {
        const plus = node.children.get('+');
        if (plus) { nodes.push(plus); depths.push(i + 1); }
      }
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
