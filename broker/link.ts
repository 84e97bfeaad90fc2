// The byte stream a connection runs on: a TCP or TLS socket, or a WebSocket. The connection needs
// only these few verbs, so the protocol code does not know which transport carries it.
import type * as net from 'net';
import type { WebSocket } from 'ws';
import type { Clock } from './clock';

export interface LinkEvents {
  data(chunk: Uint8Array): void;
  drain(): void;
  close(): void;
}

export interface Link {
  readonly remote: string;
  readonly transport: 'tcp' | 'tls' | 'ws' | 'wss';
  write(bytes: Uint8Array): void;
  /** Bytes handed to the link and not yet to the kernel. */
  buffered(): number;
  pause(): void;
  resume(): void;
  /** Closes after the written bytes are sent. */
  end(): void;
  destroy(): void;
  listen(events: LinkEvents): void;
}

/** How long a link that was ended waits for its peer to close before it is cut. */
const END_GRACE_MS = 2000;

export function socketLink(socket: net.Socket, transport: 'tcp' | 'tls', clock: Clock): Link {
  socket.setNoDelay(true);
  return {
    remote: `${socket.remoteAddress}:${socket.remotePort}`,
    transport,
    write: (b) => { if (!socket.destroyed) socket.write(b); },
    buffered: () => socket.writableLength,
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    end: () => {
      socket.end();
      // a peer that never reads must not keep the socket half-open for ever
      clock.setTimeout(() => socket.destroy(), END_GRACE_MS);
    },
    destroy: () => socket.destroy(),
    listen(ev) {
      socket.on('data', ev.data);
      socket.on('drain', ev.drain);
      socket.on('close', ev.close);
      socket.on('error', () => { /* 'close' follows; the connection logs why it ended */ });
    },
  };
}

export function webSocketLink(ws: WebSocket, remote: string, transport: 'ws' | 'wss', clock: Clock): Link {
  let pending = 0;
  let onDrain = () => {};
  return {
    remote,
    transport,
    write: (b) => {
      if (ws.readyState !== ws.OPEN) return;
      pending += b.length;
      ws.send(b, { binary: true }, () => {
        pending -= b.length;
        if (pending === 0) onDrain();
      });
    },
    buffered: () => pending,
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    end: () => {
      ws.close();
      clock.setTimeout(() => ws.terminate(), END_GRACE_MS); // a peer that never answers the close frame
    },
    destroy: () => ws.terminate(),
    listen(ev) {
      onDrain = ev.drain;
      ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
        // MQTT goes in binary frames only; any other data frame closes the connection [MQTT-6.0.0-1]
        if (!isBinary) { ws.close(1003, 'MQTT needs binary frames'); clock.setTimeout(() => ws.terminate(), END_GRACE_MS); return; }
        if (Array.isArray(data)) for (const d of data) ev.data(d);
        else ev.data(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
      });
      ws.on('close', ev.close);
      ws.on('error', () => { /* 'close' follows */ });
    },
  };
}
