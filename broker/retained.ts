// Retained messages as a tree of topic levels, so that a new subscription finds its retained messages
// by walking its filter, not by testing every retained topic.
import type { Message } from './message';
import { expired } from './message';

class Node {
  children = new Map<string, Node>();
  message: Message | null = null;
}

export class RetainedStore {
  private root = new Node();
  size = 0;

  /** Stores `m`, or deletes the topic's message when the payload is empty [MQTT-3.3.1-10], [MQTT-3.3.1-11]. */
  set(m: Message): void {
    const levels = m.topic.split('/');
    if (m.payload.length === 0) { this.delete(levels); return; }
    let node = this.root;
    for (const level of levels) {
      let child = node.children.get(level);
      if (!child) node.children.set(level, (child = new Node()));
      node = child;
    }
    if (!node.message) this.size++;
    node.message = m;
  }

  get(topic: string): Message | null {
    let node: Node | undefined = this.root;
    for (const level of topic.split('/')) {
      node = node.children.get(level);
      if (!node) return null;
    }
    return node.message;
  }

  private delete(levels: string[]): void {
    const path = [this.root];
    for (const level of levels) {
      const child = path[path.length - 1].children.get(level);
      if (!child) return;
      path.push(child);
    }
    if (path[path.length - 1].message) this.size--;
    path[path.length - 1].message = null;
    for (let i = levels.length; i > 0; i--) {
      const n = path[i];
      if (n.message || n.children.size) break;
      path[i - 1].children.delete(levels[i - 1]);
    }
  }

  /**
   * Retained messages matching `filter`, dropping expired ones on the way, in topic-tree order. Loops over
   * an explicit stack, never recursion: the depth of a retained topic is a client's choice.
   */
  match(filter: string, now: number): Message[] {
    const out: Message[] = [];
    const f = filter.split('/');
    const nodes: Node[] = [this.root], depths: number[] = [0];
    while (nodes.length) {
      const node = nodes.pop()!, i = depths.pop()!;
      if (i === f.length) { this.take(node, out, now); continue; }
      const level = f[i];
      if (level === '#') {
        this.take(node, out, now); // `a/#` includes `a`
        this.below(node, i === 0, (n) => this.take(n, out, now));
      } else if (level === '+') {
        const children = [...node.children];
        for (let k = children.length - 1; k >= 0; k--) {
          if (i === 0 && children[k][0].startsWith('$')) continue; // [MQTT-4.7.2-1]
          nodes.push(children[k][1]);
          depths.push(i + 1);
        }
      } else {
        const child = node.children.get(level);
        if (child) { nodes.push(child); depths.push(i + 1); }
      }
    }
    return out;
  }

  /** Every retained message (for persistence and statistics). */
  all(): Message[] {
    const out: Message[] = [];
    this.below(this.root, false, (n) => { if (n.message) out.push(n.message); });
    return out;
  }

  /**
   * Calls `fn` on every node below `start`, parents before children, in insertion order; `top` leaves out
   * the `$` topics at the first level [MQTT-4.7.2-1]. `fn` may delete the node's message.
   */
  private below(start: Node, top: boolean, fn: (n: Node) => void): void {
    const stack: Node[] = [];
    const pushChildren = (n: Node, skipDollar: boolean) => {
      const children = [...n.children];
      for (let k = children.length - 1; k >= 0; k--) if (!(skipDollar && children[k][0].startsWith('$'))) stack.push(children[k][1]);
    };
    pushChildren(start, top);
    while (stack.length) {
      const n = stack.pop()!;
      fn(n);
      pushChildren(n, false);
    }
  }

  private take(node: Node, out: Message[], now: number): void {
    const m = node.message;
    if (!m) return;
    if (expired(m, now)) { this.delete(m.topic.split('/')); return; }
    out.push(m);
  }
}
