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

  /** Retained messages matching `filter`, dropping expired ones on the way. */
  match(filter: string, now: number): Message[] {
    const out: Message[] = [];
    this.walk(this.root, filter.split('/'), 0, out, now);
    return out;
  }

  /** Every retained message (for persistence and statistics). */
  all(): Message[] {
    const out: Message[] = [];
    const visit = (n: Node) => { if (n.message) out.push(n.message); for (const c of n.children.values()) visit(c); };
    visit(this.root);
    return out;
  }

  private walk(node: Node, f: string[], i: number, out: Message[], now: number): void {
    if (i === f.length) { this.take(node, out, now); return; }
    const level = f[i];
    if (level === '#') {
      this.take(node, out, now); // `a/#` includes `a`
      this.everything(node, out, now, i === 0);
      return;
    }
    if (level === '+') {
      for (const [name, child] of node.children) {
        if (i === 0 && name.startsWith('$')) continue; // [MQTT-4.7.2-1]
        this.walk(child, f, i + 1, out, now);
      }
      return;
    }
    const child = node.children.get(level);
    if (child) this.walk(child, f, i + 1, out, now);
  }

  private everything(node: Node, out: Message[], now: number, top: boolean): void {
    for (const [name, child] of node.children) {
      if (top && name.startsWith('$')) continue;
      this.take(child, out, now);
      this.everything(child, out, now, false);
    }
  }

  private take(node: Node, out: Message[], now: number): void {
    const m = node.message;
    if (!m) return;
    if (expired(m, now)) { this.delete(m.topic.split('/')); return; }
    out.push(m);
  }
}
