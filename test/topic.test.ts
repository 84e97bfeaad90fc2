// Topic name / topic filter validation and matching (MQTT 3.1.1 §4.7, MQTT 5.0 §4.7), table tests taken
// from the examples in the specifications plus edge cases.
import { strict as assert } from 'assert';
import fc from 'fast-check';
import { validTopicName, validTopicFilter, topicMatches } from '../firmware/mqtt/topic';

describe('validTopicName', () => {
  const valid: [string, string][] = [
    ['a/b', 'plain levels'],
    ['/', 'a single separator (two empty levels)'],
    ['/finance', 'a leading separator'],
    ['a//b', 'an empty level'],
    ['a/b/', 'a trailing separator'],
    [' ', 'a space'],
    ['$SYS/broker/load', 'a $-topic'],
    ['sport/\u20ac/\u{1F3BE}', 'multi-byte characters (3- and 4-byte UTF-8)'],
    ['x'.repeat(65535), '65,535 bytes, the longest'],
    ['\u20ac'.repeat(21845), '65,535 bytes in 3-byte characters'],
  ];
  for (const [t, why] of valid) {
    it('accepts ' + why, () => { assert.equal(validTopicName(t), true); });
  }

  const invalid: [string, string][] = [
    ['', 'MQTT-4.7.3-1: the empty string'],
    ['a/+', 'MQTT-4.7.0-1 / 3.1.1 MQTT-3.3.2-2: "+" as a level'],
    ['a/#', 'MQTT-4.7.0-1: "#" as a level'],
    ['#', 'MQTT-4.7.0-1: "#" alone'],
    ['a#', 'MQTT-4.7.0-1: "#" inside a level'],
    ['a+b', 'MQTT-4.7.0-1: "+" inside a level'],
    ['a\u0000b', 'MQTT-4.7.3-2: U+0000'],
    ['x'.repeat(65536), 'MQTT-4.7.3-3: 65,536 bytes'],
    ['\u20ac'.repeat(21846), 'MQTT-4.7.3-3: 21,846 three-byte characters (65,538 bytes, fewer than 65,536 chars)'],
  ];
  for (const [t, why] of invalid) {
    it('rejects ' + why, () => { assert.equal(validTopicName(t), false); });
  }
});

describe('validTopicFilter', () => {
  const valid: [string, string][] = [
    ['#', '"#" alone matches everything (§4.7.1.2)'],
    ['sport/tennis/player1/#', '"#" after a separator'],
    ['sport/#', '"#" after one level'],
    ['/#', '"#" after a leading separator'],
    ['+', '"+" alone (§4.7.1.3)'],
    ['+/tennis/#', '"+" and "#" together'],
    ['sport/+/player1', '"+" in the middle'],
    ['+/+', 'two "+" levels'],
    ['/+', '"+" after a leading separator'],
    ['a//b', 'an empty level'],
    ['$SYS/#', 'a $-filter'],
    ['$share/group/a/+', 'a shared subscription'],
    ['a/b', 'no wildcard'],
  ];
  for (const [f, why] of valid) {
    it('accepts ' + why + ': ' + JSON.stringify(f), () => { assert.equal(validTopicFilter(f), true); });
  }

  const invalid: [string, string][] = [
    ['', 'MQTT-4.7.3-1: the empty string'],
    ['a/#/b', 'MQTT-4.7.1-1: "#" not last (sport/tennis/#/ranking)'],
    ['a#', 'MQTT-4.7.1-1: "#" not after a separator (sport/tennis#)'],
    ['#/', 'MQTT-4.7.1-1: "#" followed by a separator'],
    ['##', 'MQTT-4.7.1-1: "##"'],
    ['a+/b', 'MQTT-4.7.1-2: "+" sharing a level (sport+)'],
    ['a/b+', 'MQTT-4.7.1-2: "+" at the end of a level'],
    ['a/+b', 'MQTT-4.7.1-2: "+" at the start of a level'],
    ['++', 'MQTT-4.7.1-2: "++"'],
    ['a\u0000', 'MQTT-4.7.3-2: U+0000'],
    ['x'.repeat(65536), 'MQTT-4.7.3-3: longer than 65,535 bytes'],
  ];
  for (const [f, why] of invalid) {
    it('rejects ' + why + ': ' + JSON.stringify(f.length > 20 ? f.slice(0, 8) + '…' : f), () => {
      assert.equal(validTopicFilter(f), false);
    });
  }
});

describe('topicMatches', () => {
  // [filter, topic, matches]
  const table: [string, string, boolean, string][] = [
    // §4.7.1.2 multi-level wildcard
    ['sport/tennis/player1/#', 'sport/tennis/player1', true, '"#" includes the parent level'],
    ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true, '"#" one level down'],
    ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true, '"#" two levels down'],
    ['sport/#', 'sport', true, '"sport/#" matches "sport" itself'],
    ['sport/tennis/#', 'sport/tennis', true, '"sport/tennis/#" matches "sport/tennis"'],
    ['sport/tennis/#', 'sport', false, '"sport/tennis/#" does not match the grandparent "sport"'],
    ['sport/tennis/#', 'sport/tennisball', false, 'a level must match whole'],
    ['#', 'a/b/c', true, '"#" matches everything'],
    ['#', '/', true, '"#" matches "/"'],
    ['/#', '/', true, '"/#" matches "/"'],
    ['/#', 'a', false, '"/#" needs an empty first level'],
    // §4.7.1.3 single-level wildcard
    ['sport/tennis/+', 'sport/tennis/player1', true, '"+" matches one level'],
    ['sport/tennis/+', 'sport/tennis/player1/ranking', false, '"+" matches only one level'],
    ['sport/+', 'sport', false, '"sport/+" does not match "sport"'],
    ['sport/+', 'sport/', true, '"sport/+" matches "sport/" (an empty level)'],
    ['+/+', '/finance', true, '"+/+" matches "/finance"'],
    ['/+', '/finance', true, '"/+" matches "/finance"'],
    ['+', '/finance', false, '"+" does not match "/finance"'],
    ['a/+/c', 'a//c', true, '"+" matches an empty level'],
    ['+/tennis/#', 'sport/tennis', true, '"+" with "#" matching the parent'],
    ['+', 'a', true, '"+" matches a single level'],
    ['+/+', 'a', false, '"+/+" needs two levels'],
    // §4.7.2 topics beginning with $
    ['#', '$SYS/monitor/Clients', false, 'MQTT-4.7.2-1: "#" does not match a $-topic'],
    ['+/monitor/Clients', '$SYS/monitor/Clients', false, 'MQTT-4.7.2-1: "+" first does not match a $-topic'],
    ['$SYS/#', '$SYS/monitor/Clients', true, '"$SYS/#" matches a $SYS topic'],
    ['$SYS/monitor/+', '$SYS/monitor/Clients', true, '"$SYS/monitor/+" matches'],
    ['#', '$SYS', false, '"#" does not match "$SYS" itself'],
    ['+', '$x', false, '"+" does not match "$x"'],
    ['a/+', 'a/$b', true, 'only a $ at the start of the topic name is special'],
    ['a/#', 'a/$b', true, 'only a $ at the start of the topic name is special ("#")'],
    // plain levels
    ['a/b', 'a/b', true, 'equal strings'],
    ['ACCOUNTS', 'Accounts', false, 'MQTT-4.7.3-4: matching is case sensitive'],
    ['a/b/', 'a/b', false, 'a trailing separator is an extra (empty) level'],
    ['a/b', 'a/b/', false, 'a trailing separator in the topic is an extra level'],
    ['a b', 'a b', true, 'spaces are ordinary characters'],
    ['\u20ac/+', '\u20ac/\u{1F600}', true, 'multi-byte characters'],
  ];
  for (const [filter, topic, expected, why] of table) {
    it((expected ? 'match: ' : 'no match: ') + why + ' (' + filter + ' vs ' + topic + ')', () => {
      assert.equal(topicMatches(filter, topic), expected);
    });
  }

  it('property: every valid topic name not starting with $ matches itself and "#"', () => {
    const level = fc.stringMatching(/^[a-z0-9 $]{0,4}$/);
    const topicArb = fc.array(level, { minLength: 1, maxLength: 5 }).map((ls) => ls.join('/'))
      .filter((t) => t.length > 0 && t[0] !== '$');
    fc.assert(fc.property(topicArb, (t) => topicMatches(t, t) && topicMatches('#', t)));
  });

  it('property: replacing any one level of a topic with "+" gives a matching filter', () => {
    const level = fc.stringMatching(/^[a-z0-9]{0,4}$/);
    fc.assert(fc.property(fc.array(level, { minLength: 1, maxLength: 6 }), fc.nat(), (ls, k) => {
      const t = ls.join('/');
      if (t.length === 0) return true;
      const f = ls.slice();
      f[k % ls.length] = '+';
      return topicMatches(f.join('/'), t);
    }));
  });
});
