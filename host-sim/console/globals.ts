// Espruino's globals inside a node `vm` context, for code typed or uploaded at the simulated console:
// print, timers, getTime, E, process.memory(), require("Storage"|"net"|"tls"|"Wifi"|"ESP32"), the
// UART objects. Only what firmware and uploaders use, shaped like the real interpreter (2v29 on ESP32):
// socket data arrives as strings of at most 536 chars, emit() is asynchronous, write() takes strings.
import * as net from 'net';
import * as tls from 'tls';
import * as zlib from 'zlib';
import type { SimStorage } from './storage';

/** What the globals need from the board that owns them. */
export interface BoardHost {
  storage: SimStorage;
  /** Console output (a string of one char per byte). */
  print(text: string): void;
  /** An exception nobody caught, reported as Espruino does ("Uncaught Error: ..."). */
  uncaught(e: unknown): void;
  reset(clearFlash: boolean): void;
  load(file?: string): void;
  save(): void;
  reboot(): void;
  echo(on: boolean): void;
  /** JsVars in use and in all, for process.memory(). */
  memory(): { usage: number; total: number };
  /** Evaluates a module's source in this context (Storage modules, Modules.addCached). */
  evaluate(code: string, file: string): unknown;
  wifi: WifiNetworks | null;
  serialNumber: string;
  /** UARTs other than the console (Serial1, Serial2): what the firmware writes and where its data comes from. */
  uart(name: string): SimUart;
}

/** SSID → password of the networks a simulated board can join; null: any SSID joins with any password. */
export type WifiNetworks = { [ssid: string]: string };

/** A UART as the firmware sees it: setup(), write(string), on('data', string). */
export interface SimUart {
  /** Host side: bytes the firmware wrote. */
  onWrite: ((data: string) => void) | null;
  /** Host side: deliver bytes to the firmware's on('data') handlers. */
  deliver(data: string): void;
  /** Firmware side object placed in the context. */
  readonly object: object;
  baud: number;
}

type Handler = (...args: unknown[]) => void;

/** Espruino's event methods: on/removeListener/emit, with emit() running handlers later, not inside. */
class Emitter {
  private handlers: { [event: string]: Handler[] } = {};
  constructor(private readonly life: Life) {}
  on(event: string, fn: Handler): this { (this.handlers[event] = this.handlers[event] || []).push(fn); return this; }
  removeListener(event: string, fn: Handler): this { this.handlers[event] = (this.handlers[event] || []).filter((h) => h !== fn); return this; }
  removeAllListeners(event?: string): this { if (event) delete this.handlers[event]; else this.handlers = {}; return this; }
  emit(event: string, ...args: unknown[]): void { this.life.later(() => this.emitNow(event, ...args)); }
  emitNow(event: string, ...args: unknown[]): void {
    for (const h of (this.handlers[event] || []).slice()) this.life.call(h, args);
  }
}

/**
 * One life of the board's RAM: from a boot to the next reset. Timers, sockets and Wi-Fi handlers
 * belong to it and die with it, as everything in RAM does on a real reset.
 */
export class Life {
  private timers = new Map<number, NodeJS.Timeout>();
  private nextTimer = 1;
  private closers = new Set<() => void>();
  dead = false;
  constructor(private readonly host: BoardHost) {}

  /** Runs fn as an event handler: an exception is reported, not thrown. */
  call(fn: Handler, args: unknown[]): void {
    if (this.dead) return;
    try { fn(...args); } catch (e) { this.host.uncaught(e); }
  }

  later(fn: () => void): void { setImmediate(() => { if (!this.dead) fn(); }); }

  setTimer(fn: Handler, ms: number, repeat: boolean, args: unknown[]): number {
    if (typeof fn !== 'function') throw new Error('Function or String not supplied!');
    const id = this.nextTimer++;
    const delay = Math.max(0, +ms || 0);
    const run = () => { if (!repeat) this.timers.delete(id); this.call(fn, args); };
    this.timers.set(id, repeat ? setInterval(run, Math.max(1, delay)) : setTimeout(run, delay));
    return id;
  }

  clearTimer(id?: unknown): void {
    if (id === undefined) { for (const t of this.timers.values()) clearTimeout(t); this.timers.clear(); return; }
    const t = this.timers.get(id as number);
    if (t) { clearTimeout(t); this.timers.delete(id as number); }
  }

  onEnd(close: () => void): () => void {
    this.closers.add(close);
    return () => this.closers.delete(close);
  }

  end(): void {
    this.dead = true;
    this.clearTimer();
    for (const c of this.closers) { try { c(); } catch { /* closing anyway */ } }
    this.closers.clear();
  }
}

/** Espruino's socket data events: strings, one char per byte, at most 536 per event. */
const CHUNK = 536;

function socketModule(life: Life, secure: boolean) {
  return {
    connect(options: { host?: string; port?: number }, cb?: Handler) {
      const ev = new Emitter(life);
      const tcp = net.connect({ host: options.host || 'localhost', port: options.port || (secure ? 443 : 80) });
      const s = secure ? tls.connect({ socket: tcp, servername: net.isIP(options.host || '') ? undefined : options.host, rejectUnauthorized: false }) : tcp;
      let closed = false;
      const forget = life.onEnd(() => s.destroy());
      s.on(secure ? 'secureConnect' : 'connect', () => { if (cb) life.call(cb, []); ev.emitNow('connect'); });
      s.on('data', (d: Buffer) => {
        for (let i = 0; i < d.length; i += CHUNK) ev.emitNow('data', d.toString('latin1', i, Math.min(d.length, i + CHUNK)));
      });
      s.on('error', (e: Error) => ev.emitNow('error', { type: 0, message: e.message }));
      s.on('close', () => { if (!closed) { closed = true; forget(); ev.emitNow('close', false); } });
      const socket = Object.assign(ev, {
        // a Uint8Array is turned into text ("16,16,0,...") as the real interpreter does
        write: (data: unknown) => { if (!s.destroyed) s.write(Buffer.from(typeof data === 'string' ? data : String(data), 'latin1')); return true; },
        end: () => { s.end(); },
      });
      return socket;
    },
  };
}

function wifiModule(life: Life, host: BoardHost) {
  const ev = new Emitter(life);
  let status = 'off';
  let ssid = '';
  return Object.assign(ev, {
    connect(name: string, options: { password?: string } | undefined, cb?: Handler) {
      status = 'connecting';
      life.later(() => {
        const nets = host.wifi;
        const ok = typeof name === 'string' && name.length > 0 && (nets === null || (name in nets && nets[name] === ((options && options.password) || '')));
        const reason = !nets || name in nets ? 'auth_fail' : 'no_ap_found';
        if (ok) { status = 'connected'; ssid = name; if (cb) life.call(cb, [null]); ev.emitNow('connected', { ssid: name, ip: '192.168.4.2' }); }
        else { status = 'off'; if (cb) life.call(cb, [reason]); ev.emitNow('disconnected', { ssid: name, reason: reason }); }
      });
    },
    disconnect(cb?: Handler) { status = 'off'; ssid = ''; life.later(() => { if (cb) life.call(cb, []); ev.emitNow('disconnected', {}); }); },
    getStatus(cb?: Handler) { const s = { station: status, ap: 'disabled', ssid: ssid }; if (cb) life.later(() => life.call(cb, [s])); return s; },
    getIP(cb?: Handler) { const ip = { ip: status === 'connected' ? '192.168.4.2' : '0.0.0.0', mac: host.serialNumber }; if (cb) life.later(() => life.call(cb, [null, ip])); return ip; },
    getDetails(cb?: Handler) { const d = { status: status, ssid: ssid }; if (cb) life.later(() => life.call(cb, [d])); return d; },
    setHostname() { /* accepted */ },
    save() { /* Wi-Fi credentials are the app's config here */ },
    scan(cb: Handler) { life.later(() => life.call(cb, [Object.keys(host.wifi || {}).map((n) => ({ ssid: n, rssi: -50 }))])); },
  });
}

function storageModule(host: BoardHost) {
  const s = host.storage;
  return {
    write: (name: string, data: unknown, offset?: number, size?: number) => s.write(name, toBinary(data), offset, size),
    read: (name: string, offset?: number, length?: number) => s.read(name, offset, length),
    readJSON(name: string, noExceptions?: boolean) {
      const t = s.read(name);
      if (t === undefined) return undefined;
      try { return JSON.parse(t); } catch (e) { if (noExceptions) return undefined; throw e; }
    },
    writeJSON: (name: string, data: unknown) => s.write(name, JSON.stringify(data)),
    readArrayBuffer(name: string) { const t = s.read(name); return t === undefined ? undefined : new Uint8Array(Buffer.from(t, 'latin1')).buffer; },
    erase: (name: string) => s.erase(name),
    eraseAll: () => s.eraseAll(),
    list: (pattern?: RegExp | string) => s.list(pattern),
    getFree: () => s.getFree(),
    compact: () => undefined,
    getStats: () => ({ totalBytes: s.capacity, freeBytes: s.getFree(), fileCount: s.list().length }),
  };
}

/** Espruino turns strings, arrays and typed arrays into strings of bytes the same way. */
function toBinary(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data) || Array.isArray(data)) {
    const a = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data instanceof ArrayBuffer ? new Uint8Array(data) : (data as number[]);
    let s = '';
    for (let i = 0; i < a.length; i++) s += String.fromCharCode(a[i] & 255);
    return s;
  }
  return String(data);
}

function uartObject(life: Life, uart: SimUart, name: string) {
  const ev = new Emitter(life);
  uart.deliver = (data) => ev.emitNow('data', data);
  return Object.assign(ev, {
    setup(baud?: number) { uart.baud = baud || 9600; },
    write(...data: unknown[]) { if (uart.onWrite) uart.onWrite(data.map(toBinary).join('')); },
    print(data: unknown) { if (uart.onWrite) uart.onWrite(String(data)); },
    println(data: unknown) { if (uart.onWrite) uart.onWrite(String(data) + '\r\n'); },
    toString() { return name; },
  });
}

/** Formats values the way print() and console.log() do. */
export function show(v: unknown): string {
  if (typeof v === 'string') return v;
  return inspect(v);
}

/** The REPL's `=value` form. */
export function inspect(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'function') return 'function ' + (v.name || '') + ' () { [native code] }';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v !== 'object' || v === null) return String(v);
  if (ArrayBuffer.isView(v)) return 'new ' + v.constructor.name + '([' + Array.prototype.join.call(v, ', ') + '])';
  try {
    return JSON.stringify(v, null, 1).replace(/\n\s*/g, ' ');
  } catch {
    return '{ ... }';
  }
}

/** Fills a fresh vm context's global object with Espruino's globals for one life of the RAM. */
export function installGlobals(g: { [name: string]: unknown }, host: BoardHost, life: Life): void {
  const started = Date.now();
  const print = (...args: unknown[]) => host.print(args.map(show).join(' ') + '\r\n');
  const modules: { [name: string]: unknown } = {};
  const E = Object.assign(new Emitter(life), {
    toString: (...args: unknown[]) => args.map(toBinary).join(''),
    // the board's view of a string's bytes (the firmware wraps socket strings in it)
    toArrayBuffer: (s: string) => { const b = Buffer.from(s, 'latin1'); return b.buffer.slice(b.byteOffset, b.byteOffset + b.length); },
    toUint8Array: (...args: unknown[]) => new (g.Uint8Array as typeof Uint8Array)(Buffer.from(args.map(toBinary).join(''), 'latin1')),
    toJS: (v: unknown) => JSON.stringify(v),
    // with alwaysExec the code runs even after reset(), so it lives in another file (as on the board)
    setBootCode: (code: string, alwaysExec?: boolean) => host.storage.write(alwaysExec ? '.bootrst' : '.bootcde', String(code || '')),
    reboot: () => host.reboot(),
    getTemperature: () => 24 + Math.round(Math.random() * 20) / 10,
    CRC32: (data: unknown) => zlib.crc32(Buffer.from(toBinary(data), 'latin1')),
    getErrorFlags: () => [],
    getSizeOf: () => 1,
    setConsole: () => undefined,
    kickWatchdog: () => undefined,
    enableWatchdog: () => undefined,
  });
  const uarts: { [name: string]: unknown } = {};
  for (const name of ['Serial1', 'Serial2']) uarts[name] = uartObject(life, host.uart(name), name);
  Object.assign(g, uarts, {
    print,
    console: { log: print, info: print, warn: print, error: print, debug: print },
    setTimeout: (fn: Handler, ms?: number, ...args: unknown[]) => life.setTimer(fn, ms || 0, false, args),
    setInterval: (fn: Handler, ms?: number, ...args: unknown[]) => life.setTimer(fn, ms || 0, true, args),
    clearTimeout: (id?: unknown) => life.clearTimer(id),
    clearInterval: (id?: unknown) => life.clearTimer(id),
    getTime: () => (Date.now() - started) / 1000 + 946684800,
    getSerial: () => host.serialNumber,
    // Espruino's base64 works on strings of one char per byte; the `espruino` CLI and the Web IDE send files with atob()
    atob: (text: unknown) => Buffer.from(String(text), 'base64').toString('latin1'),
    btoa: (binary: unknown) => Buffer.from(toBinary(binary), 'latin1').toString('base64'),
    E,
    process: {
      version: '2v29', env: { VERSION: '2v29', BOARD: 'ESP32', CONSOLE: 'Serial1', EXPTR: 0, MODULES: 'Wifi,net,tls,Storage,ESP32' },
      memory: () => { const m = host.memory(); return { free: m.total - m.usage, usage: m.usage, total: m.total, history: 0, gc: 0, gctime: 0, blocksize: 14 }; },
      on: (event: string, fn: Handler) => E.on(event, fn),
    },
    reset: (clearFlash?: boolean) => host.reset(!!clearFlash),
    load: (file?: string) => host.load(file),
    save: () => host.save(),
    echo: (on: unknown) => host.echo(!!on),
    Modules: {
      addCached: (name: string, code: unknown) => { modules[name] = typeof code === 'function' ? code : String(code); },
      removeCached: (name: string) => { delete modules[name]; },
      getCached: () => Object.keys(modules),
    },
    analogRead: () => Math.random(),
    digitalRead: () => 0,
    digitalWrite: () => undefined,
    pinMode: () => undefined,
  });
  const builtins: { [name: string]: () => unknown } = {
    net: () => socketModule(life, false),
    tls: () => socketModule(life, true),
    Wifi: () => wifiModule(life, host),
    Storage: () => storageModule(host),
    ESP32: () => ({ getState: () => ({ sdkVersion: 'v4.4.4', freeHeap: 100000 }), setBLE_Debug: () => undefined, enableBLE: () => undefined }),
  };
  g.require = (name: string) => {
    if (name in modules) {
      const m = modules[name];
      if (typeof m === 'string') modules[name] = moduleExports(host, m, name);
      else if (typeof m === 'function') { const exports = {}; m(exports); modules[name] = exports; }
      return modules[name];
    }
    if (builtins[name]) return (modules[name] = builtins[name]());
    const stored = host.storage.read(name);
    if (stored !== undefined) return (modules[name] = moduleExports(host, stored, name));
    throw new Error('Module ' + name + ' not found');
  };
}

/** A module's exports: Espruino runs its code with `exports` and `module` in scope. */
function moduleExports(host: BoardHost, code: string, name: string): unknown {
  const fn = host.evaluate('(function (exports, module) {' + code + '\n})', name) as (e: unknown, m: unknown) => void;
  const module = { exports: {} as unknown };
  fn(module.exports, module);
  return module.exports;
}
