// UTF-8 by hand: Espruino has no built-in text codec classes. Strings are UTF-16 in JS, so 4-byte
// sequences become surrogate pairs. Nothing here allocates except the decoded string itself.

/** Bytes `s` takes in UTF-8 (a lone surrogate counts as U+FFFD, 3 bytes, as it is written). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n++;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { n += 4; i++; }
    else n += 3;
  }
  return n;
}

/** Writes `s` as UTF-8 at `pos` (the caller checked the room with utf8Length) and returns the end. */
export function utf8Write(s: string, buf: Uint8Array, pos: number): number {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) { buf[pos++] = c; continue; }
    if (c < 0x800) { buf[pos++] = 0xc0 | (c >> 6); buf[pos++] = 0x80 | (c & 63); continue; }
    if (c >= 0xd800 && c < 0xe000) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c < 0xdc00 && (d & 0xfc00) === 0xdc00) {
        i++;
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        buf[pos++] = 0xf0 | (c >> 18); buf[pos++] = 0x80 | ((c >> 12) & 63);
        buf[pos++] = 0x80 | ((c >> 6) & 63); buf[pos++] = 0x80 | (c & 63);
        continue;
      }
      c = 0xfffd; // a lone surrogate cannot be encoded [MQTT-1.5.4-1]
    }
    buf[pos++] = 0xe0 | (c >> 12); buf[pos++] = 0x80 | ((c >> 6) & 63); buf[pos++] = 0x80 | (c & 63);
  }
  return pos;
}

/**
 * Decodes buf[start..end) as MQTT's UTF-8 (spec 1.5.4): null for malformed or overlong sequences,
 * encoded surrogates, code points past U+10FFFF, and U+0000, all of which make a packet malformed.
 * ASCII-only strings (the usual topic) take the fast path of one fromCharCode per char.
 */
export function utf8Read(buf: Uint8Array, start: number, end: number): string | null {
  let s = '';
  for (let i = start; i < end;) {
    let c = buf[i++];
    if (c < 0x80) {
      if (c === 0) return null;
    } else {
      let extra: number, min: number;
      if ((c & 0xe0) === 0xc0) { extra = 1; min = 0x80; c &= 0x1f; }
      else if ((c & 0xf0) === 0xe0) { extra = 2; min = 0x800; c &= 0x0f; }
      else if ((c & 0xf8) === 0xf0) { extra = 3; min = 0x10000; c &= 0x07; }
      else return null;
      if (i + extra > end) return null;
      while (extra--) {
        const k = buf[i++];
        if ((k & 0xc0) !== 0x80) return null;
        c = (c << 6) | (k & 63);
      }
      if (c < min || c > 0x10ffff || (c >= 0xd800 && c < 0xe000)) return null;
      if (c >= 0x10000) {
        c -= 0x10000;
        s += String.fromCharCode(0xd800 + (c >> 10));
        c = 0xdc00 + (c & 0x3ff);
      }
    }
    s += String.fromCharCode(c);
  }
  return s;
}
