// A simulated board's console that behaves like Espruino's REPL for everything an uploader, the USB
// monitor and `sparrow provision` use (docs/console-protocol.md): the `>` prompt and echo, Ctrl-C,
// DLE (0x10) echo-off lines, echo(0)/echo(1), multi-line input, `=result` lines, reset()/load()/save()/
// E.reboot(), and the boot code in Storage that runs at power-on so an uploaded firmware image runs.
// It speaks bytes on any duplex stream: feed() takes input, 'output' events carry what the board sends.
// For a host that runs something beside the RAM (a fleet board's app): 'kill' when a life of the RAM
// ends, 'boot' (how, the Storage files that ran) when one begins, 'print' with what code in the RAM printed.
import { EventEmitter } from 'events';
import * as vm from 'vm';
import { BoardHost, inspect, installGlobals, Life, SimUart, WifiNetworks } from './globals';
import { SimStorage } from './storage';

export interface ConsoleOptions {
  /** JsVars of the build (ESP32 16383, ESP8266 1600, Pico about 5000). */
  jsVars?: number;
  storage?: SimStorage;
  /** Networks the board can join (SSID → password); null joins any. */
  wifi?: WifiNetworks | null;
  /** getSerial(), the chip's id (the MAC on ESP32). */
  serialNumber?: string;
  /** Adds globals to each new life of the RAM (after Espruino's own): a host app's REPL object, say. */
  globals?: (g: { [name: string]: unknown }) => void;
}

const BANNER = [' ____                 _', '|  __|___ ___ ___ _ _|_|___ ___', '|  __|_ -| . |  _| | | |   | . |',
  '|____|___|  _|_| |___|_|_|_|___|', '         |_| espruino.com', ' 2v29 (c) 2025 G.Williams (Sparrow simulated board)', '', ''].join('\r\n');

/** JsVars the interpreter itself holds after a reset; code costs about one JsVar per 12 characters. */
const BASE_JSVARS = 180;
const CHARS_PER_JSVAR = 12;
/** A line that runs longer is interrupted, as Ctrl-C interrupts a busy board. */
const LINE_TIMEOUT_MS = 5000;

type Pending = { kind: 'reset'; clearFlash: boolean } | { kind: 'load'; file?: string } | { kind: 'reboot' } | { kind: 'save' } | null;

export class SimConsole extends EventEmitter {
  readonly storage: SimStorage;
  readonly jsVars: number;
  /** Times the board has booted (power-on, load(), reset(), E.reboot()). */
  boots = 0;
  private context: vm.Context | null = null;
  private life: Life | null = null;
  private line = '';
  private lineEchoOff = false;
  private echoOn = true;
  private promptShown = false;
  private escape = 0;
  private hadCR = false;
  private codeChars = 0;
  /** Code evaluated at the console in this life: what save() keeps. */
  private ramLog: string[] = [];
  private pending: Pending = null;
  private running = false;
  private readonly uarts: { [name: string]: SimUart } = {};
  private readonly host: BoardHost;
  private readonly extraGlobals: ((g: { [name: string]: unknown }) => void) | undefined;

  constructor(options: ConsoleOptions = {}) {
    super();
    this.storage = options.storage || new SimStorage();
    this.jsVars = options.jsVars || 16383;
    this.extraGlobals = options.globals;
    const serialNumber = options.serialNumber || 'a4cf12' + Math.floor(Math.random() * 0xffffff).toString(16).padStart(6, '0');
    this.host = {
      storage: this.storage,
      print: (text) => { this.emit('print', text); this.print(text); },
      uncaught: (e) => this.print(errorText(e)),
      reset: (clearFlash) => this.defer({ kind: 'reset', clearFlash }),
      load: (file) => this.defer({ kind: 'load', file }),
      save: () => this.defer({ kind: 'save' }),
      reboot: () => this.defer({ kind: 'reboot' }),
      echo: (on) => { this.echoOn = on; },
      memory: () => ({ usage: Math.min(this.jsVars, BASE_JSVARS + Math.ceil(this.codeChars / CHARS_PER_JSVAR)), total: this.jsVars }),
      evaluate: (code, file) => this.run(code, file),
      wifi: options.wifi === undefined ? null : options.wifi,
      serialNumber,
      uart: (name) => this.uart(name),
    };
  }

  get poweredOn(): boolean { return this.life !== null; }

  /** A UART other than the console, for a serial transport (host side). */
  uart(name: string): SimUart {
    return this.uarts[name] || (this.uarts[name] = { onWrite: null, deliver: () => undefined, object: {}, baud: 9600 });
  }

  /** Power on: banner, then the boot code and saved state from Storage, then onInit. */
  powerOn(): void {
    if (this.life) return;
    this.boot('power');
  }

  /** Power off (the USB cable pulled): RAM, timers and sockets are gone; Storage stays. */
  powerOff(): void {
    this.endLife();
    this.line = '';
    this.promptShown = false;
  }

  /** Bytes from the host (a string of one char per byte, or a Buffer). */
  feed(data: Buffer | string): void {
    if (!this.life) return; // a board without power reads nothing
    const text = typeof data === 'string' ? data : data.toString('latin1');
    for (let i = 0; i < text.length; i++) {
      this.key(text.charCodeAt(i));
      if (this.pending) this.doPending();
    }
  }

  private key(c: number): void {
    if (this.escape) { // ESC [ ... final byte: cursor keys and the like are ignored
      if (this.escape === 1) this.escape = c === 0x5b || c === 0x4f ? 2 : 0;
      else if (c >= 0x40 && c <= 0x7e) this.escape = 0;
      return;
    }
    const wasCR = this.hadCR;
    this.hadCR = c === 13;
    if (c === 10 && wasCR) return; // \r\n is one Enter
    if (c === 13 || c === 10) return this.enter();
    if (c === 3) return this.interrupt();
    if (c === 0x10 && this.line.length === 0) { this.lineEchoOff = true; return; }
    if (c === 27) { this.escape = 1; return; }
    if (c === 8 || c === 127) {
      if (this.line.length && this.line.charAt(this.line.length - 1) !== '\n') {
        this.line = this.line.slice(0, -1);
        if (this.echoing()) this.out('\b \b');
      }
      return;
    }
    if (c < 32 && c !== 9) return;
    this.line += String.fromCharCode(c);
    if (this.echoing()) this.out(String.fromCharCode(c));
  }

  private echoing(): boolean { return this.echoOn && !this.lineEchoOff; }

  /** Ctrl-C: the input line is dropped (a busy line is stopped by its timeout). */
  private interrupt(): void {
    const had = this.line.length > 0;
    this.line = '';
    if (had && this.echoing()) { this.out('\r\n>'); this.promptShown = true; }
    this.lineEchoOff = false;
  }

  private enter(): void {
    const code = this.line;
    if (incomplete(code)) { // an open bracket, string template or comment: the line goes on (prompt ':')
      this.line += '\n';
      if (this.echoing()) this.out('\r\n:');
      return;
    }
    const echo = this.echoing();
    this.line = '';
    this.lineEchoOff = false;
    if (echo) { this.out('\r\n'); this.promptShown = false; }
    if (code.trim().length) {
      this.ramLog.push(code);
      let result: unknown;
      let ok = true;
      try { result = this.run(code, 'console'); } catch (e) { ok = false; this.print(errorText(e)); }
      if (ok && echo && this.echoOn && this.life) this.print('=' + inspect(result) + '\r\n');
    }
    if (echo && this.echoOn && !this.promptShown) { this.out('>'); this.promptShown = true; }
  }

  /** Evaluates code in the board's RAM; its size is charged to the JsVars in use. */
  private run(code: string, file: string): unknown {
    if (!this.context) throw new Error('board is off');
    this.codeChars += code.length;
    this.running = true;
    try {
      return vm.runInContext(code, this.context, { filename: file, timeout: LINE_TIMEOUT_MS });
    } finally {
      this.running = false;
    }
  }

  /** Board output (what print() writes). With the prompt on screen, it is taken off first and put back after, as Espruino does. */
  print(text: string): void {
    if (this.promptShown && !this.running) {
      const width = 1 + this.line.length;
      this.out('\r' + ' '.repeat(width) + '\r' + text + '>' + (this.lineEchoOff ? '' : this.line));
    } else if (this.promptShown) {
      this.out('\r' + ' '.repeat(1 + this.line.length) + '\r' + text);
      this.promptShown = false;
    } else {
      this.out(text);
    }
  }

  private out(text: string): void {
    this.emit('output', text);
  }

  /** reset(), load(), save() and E.reboot() act after the line that called them, as on the board. */
  private defer(p: Pending): void {
    this.pending = p;
    if (!this.running) setImmediate(() => { if (this.pending) this.doPending(); });
  }

  private doPending(): void {
    const p = this.pending;
    this.pending = null;
    if (!p || this.running) { this.pending = p; return; }
    if (p.kind === 'save') return this.save();
    if (p.kind === 'reset' && p.clearFlash) this.storage.eraseAll();
    this.endLife();
    this.boot(p.kind === 'reset' ? 'reset' : 'load', p.kind === 'load' ? p.file : undefined);
  }

  private endLife(): void {
    if (this.life) {
      const e = this.context && (this.context.E as { emitNow?: (ev: string) => void });
      if (e && e.emitNow) { try { e.emitNow('kill'); } catch { /* dying anyway */ } }
      this.emit('kill');
      this.life.end();
    }
    this.life = null;
    this.context = null;
  }

  /**
   * A new life of the RAM. After reset() only `.bootrst` runs (E.setBootCode(code, true)); at power-on,
   * load() and E.reboot() `.bootcde` runs, then the state save() kept, then E.on('init') and onInit().
   */
  private boot(how: 'power' | 'reset' | 'load', file?: string): void {
    this.boots++;
    this.life = new Life(this.host);
    this.context = vm.createContext({});
    installGlobals(this.context as { [name: string]: unknown }, this.host, this.life);
    if (this.extraGlobals) this.extraGlobals(this.context as { [name: string]: unknown });
    vm.runInContext('var global = this;', this.context);
    this.codeChars = 0;
    this.ramLog = [];
    this.echoOn = true;
    this.line = '';
    this.lineEchoOff = false;
    this.promptShown = false;
    this.out(BANNER);
    const files = file ? [file] : how === 'reset' ? ['.bootrst'] : ['.bootrst', '.bootcde'];
    const ran: string[] = [];
    for (const f of files) {
      const code = this.storage.read(f);
      if (code !== undefined) { ran.push(f); this.bootRun(code, f); }
    }
    const image = how === 'reset' ? undefined : this.storage.read('.varimg');
    if (image !== undefined) {
      ran.push('.varimg');
      for (const code of JSON.parse(image) as string[]) { this.bootRun(code, '.varimg'); this.ramLog.push(code); }
    }
    if (this.context) this.init();
    if (this.echoOn && this.life) { this.out('>'); this.promptShown = true; }
    this.emit('boot', how, ran);
    if (this.pending) setImmediate(() => { if (this.pending) this.doPending(); });
  }

  private bootRun(code: string, file: string): void {
    try { this.run(code, file); } catch (e) { this.print(errorText(e)); }
  }

  private init(): void {
    const ctx = this.context as { E: { emitNow(ev: string): void }; onInit?: unknown };
    ctx.E.emitNow('init');
    if (typeof ctx.onInit === 'function') {
      this.print('Running onInit()...\r\n');
      try { (ctx.onInit as () => void)(); } catch (e) { this.print(errorText(e)); }
    }
  }

  /** save(): the code typed in this life is kept in Storage (`.varimg`) and replayed at every boot. */
  private save(): void {
    const image = JSON.stringify(this.ramLog);
    this.storage.erase('.varimg');
    if (!this.storage.write('.varimg', image)) { this.print('ERROR: Not enough free space in Storage to save\r\n'); return; }
    this.print('Compacting Flash...\r\nCalculating Size...\r\nWriting..\r\nCompressed ' + image.length + ' bytes to ' + image.length + '\r\nChecking...\r\nDone!\r\n');
    if (this.context) this.init();
  }
}

/** True when Enter should continue the input, as Espruino does for unmatched brackets. */
function incomplete(code: string): boolean {
  if (!code.trim()) return false;
  try {
    new vm.Script(code);
    return false;
  } catch (e) {
    return /Unexpected end of input|Unterminated template|missing \) after|Unterminated regular/.test((e as Error).message);
  }
}

/** Espruino's report of an exception nobody caught. */
export function errorText(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) {
    const err = e as { name?: string; message: string };
    return 'Uncaught ' + (err.name || 'Error') + ': ' + err.message + '\r\n';
  }
  return 'Uncaught ' + inspect(e) + '\r\n';
}
