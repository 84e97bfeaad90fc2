// Helpers for the broker tests: a broker on an ephemeral port, MQTT.js clients, a raw socket client
// that speaks through the firmware codec (for what MQTT.js will not send), and bounded waits.
import { execFileSync } from 'child_process';
import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { copyPacket, encodePacket, PacketReader } from '../../firmware/mqtt';
import type { DecodedPacket, Packet } from '../../firmware/mqtt';
import { Broker } from '../../broker/broker';
import { createLogger } from '../../broker/log';
import type { BrokerOptions } from '../../broker/options';

export interface TestBroker {
  broker: Broker;
  url: string;
  port: number;
  /** Log lines written so far (level debug and up). */
  logs: string[];
}

export async function startBroker(options: Partial<BrokerOptions> = {}): Promise<TestBroker> {
  const logs: string[] = [];
  const logger = createLogger('debug', (l) => { logs.push(l); if (process.env.BROKER_LOG) console.error(l); });
  const broker = await Broker.start({ port: 0, sysInterval: 0, logger, ...options });
  return { broker, url: `mqtt://127.0.0.1:${broker.ports.tcp}`, port: broker.ports.tcp, logs };
}

/** Everything a test opened, closed in afterEach. */
export class Cleanup {
  private items: (() => Promise<void> | void)[] = [];
  add(f: () => Promise<void> | void): void { this.items.push(f); }
  async run(): Promise<void> {
    const items = this.items.reverse();
    this.items = [];
    for (const f of items) {
      // bounded: a close that hangs (a browser page under load) must not eat the hook's whole timeout
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((r) => { timer = setTimeout(() => { console.warn('cleanup step still running after 10 s, moving on'); r(); }, 10000); });
      try { await Promise.race([Promise.resolve().then(f), late]); } catch { /* already closed */ }
      clearTimeout(timer);
    }
  }
}

/** An MQTT.js client, connected (rejects on a refused CONNACK or after `ms`). */
export async function client(url: string, options: IClientOptions = {}, cleanup?: Cleanup, ms = 5000): Promise<MqttClient> {
  const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: ms, ...options });
  cleanup?.add(() => new Promise<void>((r) => c.end(true, {}, () => r())));
  inbox(c); // collect from the start: a resumed session's messages may come with the CONNACK
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no CONNACK within ' + ms + ' ms')), ms);
    c.once('connect', () => { clearTimeout(t); resolve(); });
    c.once('error', (e) => { clearTimeout(t); reject(e); });
    c.once('close', () => { clearTimeout(t); reject(new Error('closed before CONNACK')); });
  });
  return c;
}

export interface Received { topic: string; payload: Buffer; packet: mqtt.IPublishPacket; }

/** Collects a client's messages; `next(n)` waits (bounded) until n have arrived. */
export interface Inbox { list: Received[]; next(n?: number, ms?: number): Promise<Received[]> }

export function inbox(c: MqttClient): Inbox {
  const existing = (c as any).__inbox as Inbox | undefined;
  if (existing) return existing;
  const list: Received[] = [];
  const ev = new EventEmitter();
  c.on('message', (topic, payload, packet) => { list.push({ topic, payload, packet }); ev.emit('m'); });
  return ((c as any).__inbox = {
    list,
    next(n = 1, ms = 5000) {
      return new Promise<Received[]>((resolve, reject) => {
        const check = () => {
          if (list.length >= n) { clearTimeout(t); ev.off('m', check); resolve(list.slice(0, n)); }
        };
        const t = setTimeout(() => { ev.off('m', check); reject(new Error(`got ${list.length} of ${n} messages within ${ms} ms`)); }, ms);
        ev.on('m', check);
        check();
      });
    },
  });
}

/** Resolves with the event's arguments, rejects after `ms`. */
export function once<T = unknown[]>(em: { once(e: string, f: (...a: any[]) => void): unknown; off(e: string, f: (...a: any[]) => void): unknown }, event: string, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { em.off(event, on); reject(new Error(`no '${event}' within ${ms} ms`)); }, ms);
    const on = (...args: unknown[]) => { clearTimeout(t); resolve(args as T); };
    em.once(event, on);
  });
}

export function subscribe(c: MqttClient, topic: string | string[], opts: mqtt.IClientSubscribeOptions = { qos: 0 }): Promise<mqtt.ISubscriptionGrant[]> {
  return c.subscribeAsync(topic, opts);
}

/** True when nothing arrives for `ms` (used only to check that something does NOT happen). */
export function quiet(list: unknown[], ms = 200): Promise<boolean> {
  const before = list.length;
  return new Promise((r) => setTimeout(() => r(list.length === before), ms));
}

/**
 * A client on a bare socket: packets are encoded and decoded by the firmware codec, so a test can
 * send anything and see every byte's meaning that comes back.
 */
export class RawClient {
  readonly packets: DecodedPacket[] = [];
  closed = false;
  private reader: PacketReader;
  private ev = new EventEmitter();
  decodeError: string | null = null;

  /** The socket's local port (the broker logs it as the client's address), kept after close. */
  readonly localPort: number;

  private constructor(readonly socket: net.Socket, public version: number) {
    this.localPort = socket.localPort!;
    this.reader = new PacketReader({ protocolVersion: version });
    socket.on('data', (chunk) => {
      const err = this.reader.push(chunk, (p) => { this.packets.push(copyPacket(p)); this.ev.emit('packet'); });
      if (err) this.decodeError = err.message;
    });
    socket.on('close', () => { this.closed = true; this.ev.emit('close'); });
    socket.on('error', () => { /* close follows */ });
  }

  static connectSocket(port: number, version = 4, cleanup?: Cleanup): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawClient(s, version)));
      s.on('error', reject);
      cleanup?.add(() => { s.destroy(); });
    });
  }

  /** Opens a socket and completes CONNECT/CONNACK. */
  static async open(port: number, connect: Partial<Extract<Packet, { cmd: 'connect' }>> & { clientId: string }, version = 4, cleanup?: Cleanup): Promise<RawClient> {
    const r = await RawClient.connectSocket(port, version, cleanup);
    r.send({ cmd: 'connect', protocolVersion: version as 4 | 5, keepalive: 0, ...connect });
    const ack = await r.next('connack');
    if ((ack as any).returnCode || (ack as any).reasonCode) throw new Error('refused: ' + JSON.stringify(ack));
    return r;
  }

  send(p: Packet): void {
    this.socket.write(encodePacket(p, { protocolVersion: this.version }));
  }

  write(bytes: Uint8Array | string): void { this.socket.write(bytes); }

  /** The next packet of `cmd` (any if omitted) not yet taken, waiting up to `ms`. */
  next(cmd?: string, ms = 5000): Promise<DecodedPacket> {
    return new Promise((resolve, reject) => {
      const take = () => {
        const i = this.packets.findIndex((p) => !cmd || p.cmd === cmd);
        if (i < 0) {
          if (this.closed) { done(); reject(new Error(`closed without ${cmd || 'a packet'}`)); }
          return;
        }
        done();
        resolve(this.packets.splice(i, 1)[0]);
      };
      const t = setTimeout(() => { done(); reject(new Error(`no ${cmd || 'packet'} within ${ms} ms`)); }, ms);
      const done = () => { clearTimeout(t); this.ev.off('packet', take); this.ev.off('close', take); };
      this.ev.on('packet', take);
      this.ev.on('close', take);
      take();
    });
  }

  /** Resolves when the broker has closed the socket; rejects after `ms`. */
  waitClosed(ms = 5000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return once(this.ev, 'close', ms).then(() => undefined);
  }

  destroy(): void { this.socket.destroy(); }
}

/** A self-signed certificate for 127.0.0.1 and localhost, made by openssl in a temp folder that `cleanup` removes. */
export function selfSignedCert(cleanup: Cleanup): { cert: string; key: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-tls-'));
  cleanup.add(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cert = path.join(dir, 'cert.pem'), key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  return { cert, key };
}
