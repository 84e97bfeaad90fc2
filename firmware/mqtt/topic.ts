// Topic names and filters (spec 4.7). Matching walks both strings once and allocates nothing, so a
// board can test every incoming message against its subscriptions without creating garbage.

import { utf8Length } from './utf8';

const SLASH = 47, PLUS = 43, HASH = 35, DOLLAR = 36;

/** At most 65,535 bytes of UTF-8 [MQTT-4.7.3-3]; counted only for strings long enough to need it. */
function fitsLength(s: string): boolean {
  return s.length <= 21845 || utf8Length(s) <= 65535;
}

/**
 * A PUBLISH topic: at least one character, no wildcards [MQTT-3.3.2-2], no U+0000 [MQTT-4.7.3-2].
 * Native searches, not a loop: on the board this runs on every message both ways, and a JS loop costs
 * about 8 µs a character there (three indexOf calls about 40 µs in all).
 */
export function validTopicName(topic: string): boolean {
  return topic.length > 0 && fitsLength(topic) && topic.indexOf('+') < 0 && topic.indexOf('#') < 0 && topic.indexOf('\0') < 0;
}

/**
 * A SUBSCRIBE filter: `+` fills a whole level [MQTT-4.7.1-3], `#` fills a whole last level
 * [MQTT-4.7.1-2], at least one character [MQTT-4.7.3-1].
 */
export function validTopicFilter(filter: string): boolean {
  const n = filter.length;
  if (n === 0 || !fitsLength(filter)) return false;
  for (let i = 0; i < n; i++) {
    const c = filter.charCodeAt(i);
    if (c === 0) return false;
    if (c !== PLUS && c !== HASH) continue;
    const levelStart = i === 0 || filter.charCodeAt(i - 1) === SLASH;
    const levelEnd = i === n - 1 || filter.charCodeAt(i + 1) === SLASH;
    if (!levelStart || !levelEnd || (c === HASH && i !== n - 1)) return false;
  }
  return true;
}

/**
 * True when `filter` matches `topic`. `#` also matches the parent level (`a/#` matches `a`)
 * [MQTT-4.7.1-2]; a filter that starts with a wildcard never matches a `$` topic [MQTT-4.7.2-1].
 */
export function topicMatches(filter: string, topic: string): boolean {
  const fn = filter.length, tn = topic.length;
  if (tn > 0 && topic.charCodeAt(0) === DOLLAR && fn > 0) {
    const f0 = filter.charCodeAt(0);
    if (f0 === PLUS || f0 === HASH) return false;
  }
  let f = 0, t = 0;
  while (f < fn) {
    const c = filter.charCodeAt(f);
    if (c === HASH) return true;
    if (c === PLUS) {
      while (t < tn && topic.charCodeAt(t) !== SLASH) t++;
      f++;
    } else {
      if (t >= tn) {
        // the topic ended: only "/#" may remain, matching the parent level
        return tn > 0 && c === SLASH && f + 2 === fn && filter.charCodeAt(f + 1) === HASH;
      }
      if (topic.charCodeAt(t) !== c) return false;
      f++; t++;
    }
  }
  return t === tn;
}
