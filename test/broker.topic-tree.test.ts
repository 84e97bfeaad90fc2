// The broker's subscription tree against the firmware's own matcher (topicMatches, one filter at a
// time): for any set of filters, added and partly removed again, a topic reaches exactly the filters
// that match it, each once. The tree keeps its `+` and `#` children apart from the others, and walks
// a `+` branch before the exact one; this holds it to the plain definition.
import { strict as assert } from 'assert';
import fc from 'fast-check';
import { topicMatches } from '../firmware/mqtt/topic';
import { TopicTree, type MatchVisitor, type SubEntry } from '../broker/topic-tree';

const level = fc.constantFrom('a', 'b', '', '$x');
// a topic name has at least one character [MQTT-4.7.3-1]
const topicArb = fc.array(level, { minLength: 1, maxLength: 4 }).map((l) => l.join('/')).filter((t) => t.length > 0);
const filterArb = fc.tuple(fc.array(fc.constantFrom('a', 'b', '', '+', '$x'), { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([l, hash]) => (hash ? [...l.slice(0, -1), '#'] : l).join('/'));

function hitsOf(tree: TopicTree<string>, topic: string): string[] {
  const hits: string[] = [];
  const visit: MatchVisitor<string> = { entry: (e) => hits.push(e.filter), group: (g) => hits.push('$share/' + g.name) };
  tree.match(topic, visit);
  return hits.sort();
}

const entry = (filter: string): SubEntry<string> => ({ session: filter, filter, qos: 0, nl: false, rap: false, rh: 0 });

describe('broker: topic tree', () => {
  it('a topic reaches exactly the filters topicMatches accepts, before and after some are removed', () => {
    fc.assert(fc.property(fc.uniqueArray(filterArb, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 6 }), fc.array(topicArb, { minLength: 1, maxLength: 8 }),
      (filters, removals, topics) => {
        const tree = new TopicTree<string>();
        for (const f of filters) tree.add(f, entry(f));
        const live = new Set(filters);
        const check = () => {
          for (const t of topics) assert.deepEqual(hitsOf(tree, t), [...live].filter((f) => topicMatches(f, t)).sort(), t);
        };
        check();
        for (const r of removals) {
          if (!filters.length) break;
          const f = filters[r % filters.length];
          assert.equal(tree.remove(f, f), live.delete(f));
        }
        assert.equal(tree.size, live.size);
        check();
      }), { numRuns: 500 });
  });

  it('a shared group is reported once per matching filter, beside plain entries', () => {
    const tree = new TopicTree<string>();
    tree.add('a/+', { ...entry('a/+'), session: 's1', group: 'g' });
    tree.add('a/+', { ...entry('a/+'), session: 's2', group: 'g' });
    tree.add('a/#', entry('a/#'));
    assert.deepEqual(hitsOf(tree, 'a/b'), ['$share/g', 'a/#']);
    assert.equal(tree.remove('a/+', 's1', 'g'), true);
    assert.equal(tree.remove('a/+', 's2', 'g'), true);
    assert.deepEqual(hitsOf(tree, 'a/b'), ['a/#']);
  });
});
