// MQTT over WebSocket (RFC 6455, client side), for networks where only ports 80/443 are open.
// Espruino has no `ws` module, so the framing is ours: an HTTP Upgrade, then masked binary frames out
// and a streaming frame parser in. Payload bytes are handed to the MQTT reader as they arrive, piece
// by piece, so a frame is never gathered whole in memory. It reaches the client as a platform
// capability (withWebSocket), so the library bundles do not carry it: the sparrow-ws module and the
// full firmware image do.
import type { ConnectTarget, Platform, PlatformSocket, SocketHandlers } from '../platform';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Base64 of 16 random bytes: the Sec-WebSocket-Key (RFC 6455 4.1). */
function randomKey(platform: Platform): string {
  let s = '';
  for (let i = 0; i < 21; i++) s += B64.charAt(Math.floor(platform.random() * 64));
  return s + B64.charAt(Math.floor(platform.random() * 4) * 16) + '==';
}

/**
 * The Sec-WebSocket-Accept a server must answer `key` with (RFC 6455 4.2.2): base64 of the SHA-1 of
 * the key and a fixed GUID. A client that does not check it may take a cache's or a proxy's stale
 * reply, or a plain HTTP server's, for a WebSocket [RFC 6455 4.1, client requirement 4].
 */
export function acceptFor(key: string): string {
  const h = sha1(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11');
  let s = '';
  for (let i = 0; i < 20; i += 3) {
    const n = h[i] << 16 | h[i + 1] << 8 | (i + 2 < 20 ? h[i + 2] : 0);
    s += B64.charAt(n >> 18) + B64.charAt(n >> 12 & 63) + B64.charAt(n >> 6 & 63) + (i + 2 < 20 ? B64.charAt(n & 63) : '=');
  }
  return s;
}

/** SHA-1 (FIPS 180-4) of a string of byte-sized characters, as 20 bytes. Only for the handshake: short inputs. */
function sha1(s: string): number[] {
  const n = s.length, blocks = ((n + 8) >> 6) + 1, words: number[] = [];
  for (let i = 0; i < blocks * 16; i++) words[i] = 0;
  for (let i = 0; i < n; i++) words[i >> 2] |= s.charCodeAt(i) << (24 - (i & 3) * 8);
  words[n >> 2] |= 0x80 << (24 - (n & 3) * 8);
  words[blocks * 16 - 1] = n * 8;
  const h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0], w: number[] = [];
  for (let b = 0; b < words.length; b += 16) {
    let a = h[0], c = h[1], d = h[2], e = h[3], f = h[4];
    for (let t = 0; t < 80; t++) {
      w[t] = t < 16 ? words[b + t] : rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
      const mix = t < 20 ? (c & d) | (~c & e) : t < 40 || t >= 60 ? c ^ d ^ e : (c & d) | (c & e) | (d & e);
      const k = t < 20 ? 0x5a827999 : t < 40 ? 0x6ed9eba1 : t < 60 ? 0x8f1bbcdc : 0xca62c1d6;
      const next = (rotl(a, 5) + mix + f + k + w[t]) | 0;
      f = e; e = d; d = rotl(c, 30); c = a; a = next;
    }
    h[0] = (h[0] + a) | 0; h[1] = (h[1] + c) | 0; h[2] = (h[2] + d) | 0; h[3] = (h[3] + e) | 0; h[4] = (h[4] + f) | 0;
  }
  const out: number[] = [];
  for (let i = 0; i < 20; i++) out.push(h[i >> 2] >>> (24 - (i & 3) * 8) & 255);
  return out;
}

function rotl(x: number, n: number): number {
  return x << n | x >>> (32 - n);
}

/** Copies a socket chunk into bytes (strings carry one byte per char on Espruino). */
function chunkBytes(chunk: Uint8Array | string): Uint8Array {
  if (typeof chunk !== 'string') return chunk;
  const b = new Uint8Array(chunk.length);
  for (let i = 0; i < chunk.length; i++) b[i] = chunk.charCodeAt(i);
  return b;
}

/** Gives `platform` the webSocket() the client opens ws:// and wss:// URLs with, over its own connect(); returns it. */
export function withWebSocket(platform: Platform): Platform {
  platform.webSocket = (target, path, handlers) => connectWebSocket(platform, target, path, handlers);
  return platform;
}

/** Opens `target` through `connect` and speaks WebSocket on it; `handlers` see the MQTT byte stream. */
export function connectWebSocket(platform: Platform, target: ConnectTarget, path: string, handlers: SocketHandlers): PlatformSocket {
  let upgraded = false;
  let response = '';
  const key = randomKey(platform);
  let out = new Uint8Array(64);
  // frame parser state
  const header = new Uint8Array(14);
  let headerLength = 0, payloadLeft = 0, opcode = 0, maskAt = -1, payloadIndex = 0;
  let control: number[] = [];
  let closed = false;

  const socket = platform.connect(target, {
    open: () => {
      const request = ascii('GET ' + path + ' HTTP/1.1\r\nHost: ' + target.host + ':' + target.port +
        '\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ' + key +
        '\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n');
      socket.write(request, request.length);
    },
    data: (chunk) => {
      let bytes = chunkBytes(chunk);
      if (!upgraded) {
        let i = 0;
        while (i < bytes.length && response.slice(-4) !== '\r\n\r\n') response += String.fromCharCode(bytes[i++]);
        if (response.slice(-4) !== '\r\n\r\n') return;
        // indexOf, not regular expressions: Espruino's regex engine is too weak to trust here
        const lower = response.toLowerCase(), at = lower.indexOf('\r\nsec-websocket-accept:');
        if (response.indexOf('HTTP/1.1 101') !== 0 || lower.indexOf('sec-websocket-protocol: mqtt') < 0) return fail('WebSocket upgrade refused: ' + response.split('\r\n')[0]);
        if (at < 0 || response.substring(at + 23, response.indexOf('\r\n', at + 2)).split(' ').join('') !== acceptFor(key)) return fail('WebSocket upgrade refused: wrong Sec-WebSocket-Accept');
        upgraded = true;
        handlers.open();
        bytes = bytes.subarray(i);
      }
      readFrames(bytes);
    },
    close: (reason) => { if (!closed) { closed = true; handlers.close(reason); } },
  });

  function fail(reason: string): void {
    socket.end();
    if (!closed) { closed = true; handlers.close(reason); }
  }

  function ascii(s: string): Uint8Array {
    const b = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
    return b;
  }

  /** Streams frames: headers are gathered (at most 14 bytes), payloads pass through as they come. */
  function readFrames(b: Uint8Array): void {
    let i = 0;
    while (i < b.length && !closed) {
      if (payloadLeft === 0) {
        header[headerLength++] = b[i++];
        const need = headerSize();
        if (need < 0 || headerLength < need) continue;
        startPayload(need);
        if (payloadLeft === 0) endFrame();
        continue;
      }
      const n = Math.min(payloadLeft, b.length - i);
      const piece = b.subarray(i, i + n);
      if (maskAt >= 0) for (let k = 0; k < n; k++) piece[k] ^= header[maskAt + ((payloadIndex + k) & 3)];
      payloadIndex += n;
      if (opcode >= 8) for (let k = 0; k < n; k++) control.push(piece[k]);
      else handlers.data(piece);
      i += n;
      payloadLeft -= n;
      if (payloadLeft === 0) endFrame();
    }
  }

  /** Header size once enough of it is known, or -1 while more bytes are needed. */
  function headerSize(): number {
    if (headerLength < 2) return -1;
    const len = header[1] & 127, mask = header[1] & 128 ? 4 : 0;
    return 2 + (len === 126 ? 2 : len === 127 ? 8 : 0) + mask;
  }

  function startPayload(size: number): void {
    const len = header[1] & 127;
    opcode = header[0] & 15;
    payloadLeft = len === 126 ? (header[2] << 8) | header[3]
      : len === 127 ? header[6] * 16777216 + ((header[7] << 16) | (header[8] << 8) | header[9]) : len;
    maskAt = header[1] & 128 ? size - 4 : -1;
    payloadIndex = 0;
    headerLength = 0;
    if (opcode === 1 || (opcode >= 3 && opcode <= 7) || opcode > 10) fail('WebSocket frame with opcode ' + opcode);
  }

  /** Control frames are answered: a ping with a pong, a close with a close (RFC 6455 5.5). */
  function endFrame(): void {
    const op = opcode;
    opcode = 0;
    if (op === 9) send(0x8a, control, control.length);
    if (op === 8) {
      send(0x88, control.slice(0, 2), Math.min(control.length, 2));
      fail('WebSocket closed by the server');
    }
    control = [];
  }

  /** Writes one masked frame (clients must mask, RFC 6455 5.3). */
  function send(first: number, payload: ArrayLike<number>, n: number): void {
    const ext = n < 126 ? 0 : n < 65536 ? 2 : 8;
    const size = 2 + ext + 4 + n;
    if (out.length < size) out = new Uint8Array(size);
    out[0] = first;
    out[1] = 128 | (ext === 0 ? n : ext === 2 ? 126 : 127);
    let at = 2;
    if (ext === 2) { out[2] = n >> 8; out[3] = n & 255; at = 4; }
    if (ext === 8) {
      for (let k = 2; k < 6; k++) out[k] = 0;
      out[6] = (n >>> 24) & 255; out[7] = (n >> 16) & 255; out[8] = (n >> 8) & 255; out[9] = n & 255;
      at = 10;
    }
    const maskAt0 = at;
    for (let k = 0; k < 4; k++) out[at++] = Math.floor(platform.random() * 256);
    for (let k = 0; k < n; k++) out[at + k] = payload[k] ^ out[maskAt0 + (k & 3)];
    socket.write(out, size);
  }

  return {
    write: (bytes, length) => { if (upgraded && !closed) send(0x82, bytes, length); },
    end: () => {
      if (upgraded && !closed) send(0x88, [3, 232], 2); // 1000: normal closure
      closed = true;
      socket.end();
    },
  };
}
