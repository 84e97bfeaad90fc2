// UTF-8 by hand: Espruino has no built-in text codec classes. Strings are UTF-16 in JS, so 4-byte
// sequences become surrogate pairs. Nothing here allocates except the decoded string itself. Written
// for the board's byte budget: one code-point step serves both the length and the writer, and one
// loop writes every multi-byte form (a lead byte, then 6 bits per continuation byte).

/** Code point of `s` at `i` (a surrogate pair read whole, a lone surrogate as U+FFFD [MQTT-1.5.4-1]). */
function codePointAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 0xd800 || c > 0xdfff) return c;
  const d = s.charCodeAt(i + 1); // NaN past the end
  return c < 0xdc00 && d >= 0xdc00 && d < 0xe000 ? 0x10000 + ((c & 0x3ff) << 10) + (d & 0x3ff) : 0xfffd;
}

/** Continuation bytes a code point takes in UTF-8. */
function extraBytes(c: number): number {
  return c < 0x80 ? 0 : c < 0x800 ? 1 : c < 0x10000 ? 2 : 3;
}

/** Bytes `s` takes in UTF-8 (a lone surrogate counts as U+FFFD, 3 bytes, as it is written). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = codePointAt(s, i);
    n += 1 + extraBytes(c);
    if (c > 0xffff) i++;
  }
  return n;
}

/** Writes `s` as UTF-8 at `pos` (the caller checked the room with utf8Length) and returns the end. */
export function utf8Write(s: string, buf: Uint8Array, pos: number): number {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) { buf[pos++] = c; continue; }
    c = codePointAt(s, i);
    if (c > 0xffff) i++;
    let extra = extraBytes(c);
    buf[pos++] = (0xff00 >> (extra + 1)) & 0xff | c >> 6 * extra; // 110xxxxx, 1110xxxx or 11110xxx
    while (extra--) buf[pos++] = 0x80 | (c >> 6 * extra) & 63;
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
    if (c >= 0x80) {
      // the lead byte says how many continuation bytes follow: 110xxxxx 1, 1110xxxx 2, 11110xxx 3
      const extra = c < 0xc0 ? 0 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : c < 0xf8 ? 3 : 0;
      if (!extra || i + extra > end) return null;
      c &= 0x3f >> extra;
      for (let k = 0; k < extra; k++) {
        const b = buf[i++];
        if ((b & 0xc0) !== 0x80) return null;
        c = (c << 6) | (b & 63);
      }
      if (extraBytes(c) !== extra || c > 0x10ffff || (c >= 0xd800 && c < 0xe000)) return null; // overlong, too large, surrogate
      if (c > 0xffff) {
        c -= 0x10000;
        s += String.fromCharCode(0xd800 + (c >> 10));
        c = 0xdc00 + (c & 0x3ff);
      }
    } else if (!c) {
      return null;
    }
    s += String.fromCharCode(c);
  }
  return s;
}
