// The session's FIFO (broker/sessions.ts): order kept across the moments it empties (where it goes back
// to the start of its array and reuses it) and across the compaction of a long backlog.
import { strict as assert } from 'assert';
import { Queue } from '../broker/sessions';

/** Pushes and shifts as `ops` says ('+' pushes the next number, '-' shifts), checking every shift against a plain array. */
function follow(q: Queue<number>, ops: string): void {
  const model: number[] = [];
  let next = 0;
  for (const op of ops) {
    if (op === '+') { q.push(next); model.push(next++); } else assert.equal(q.shift(), model.shift());
    assert.equal(q.length, model.length);
    assert.equal(q.peek(), model[0]);
    assert.deepEqual(q.toArray(), model);
  }
}

describe('broker: session queue', () => {
  it('keeps FIFO order when it empties and fills again (the online subscriber: one in, one out)', () => {
    const q = new Queue<number>();
    follow(q, '+-+-++--+++-+---');
    assert.equal(q.shift(), undefined);
    assert.equal(q.peek(), undefined);
  });

  it('keeps FIFO order across the compaction of a long backlog', () => {
    const q = new Queue<number>();
    // 3,000 queued, 2,000 taken (compaction happens past 1,024 taken), then both ways until empty
    follow(q, '+'.repeat(3000) + '-'.repeat(2000) + '+-'.repeat(50) + '-'.repeat(1000));
    assert.equal(q.length, 0);
  });

  it('clear() empties it, and it goes on from there', () => {
    const q = new Queue<number>();
    q.push(1);
    q.push(2);
    q.shift();
    q.clear();
    assert.equal(q.length, 0);
    assert.deepEqual(q.toArray(), []);
    q.push(3);
    assert.equal(q.shift(), 3);
  });
});
