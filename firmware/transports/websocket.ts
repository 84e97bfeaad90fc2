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
  let out = new Uint8Array(64);
  // frame parser state
  const header = new Uint8Array(14);
  let headerLength = 0, payloadLeft = 0, opcode = 0, maskAt = -1, payloadIndex = 0;
  let control: number[] = [];
  let closed = false;

  const socket = platform.connect(target, {
    open: () => {
      const request = ascii('GET ' + path + ' HTTP/1.1\r\nHost: ' + target.host + ':' + target.port +
        '\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ' + randomKey(platform) +
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
        if (response.indexOf('HTTP/1.1 101') !== 0 || response.toLowerCase().indexOf('sec-websocket-protocol: mqtt') < 0) return fail('WebSocket upgrade refused: ' + response.split('\r\n')[0]);
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
