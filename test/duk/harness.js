// The part every duk self-test shares, prepended to it by test/support/duk.ts: a test() that counts, and
// report() for the closing line the mocha side reads. Plain ES5 on purpose.
/* global print */
var passed = 0, failed = 0;

function test(name, fn) {
  try {
    fn();
    passed++;
    print('ok   ' + name);
  } catch (e) {
    failed++;
    print('FAIL ' + name + ': ' + (e && e.message ? e.message : e));
  }
}

function report(title) {
  print(title + ': ' + passed + ' passed, ' + failed + ' failed');
}
