// `sparrow flash-upload`, what flash.sh runs after the build: uploads a firmware image to a board's
// Storage as its boot code (`.bootcde`) over the console, checks it, runs it and waits for the board
// to report the expected firmware version in its telemetry. Storage rather than save(): see
// docs/serial.md ("Why Storage and not save()"). Every failure names its step:
// no board found, board not answering, image too large (for free JsVars or Storage), failed verification.
import * as fs from 'fs';
import * as zlib from 'zlib';
import { ConsoleClient } from './console-client';
import { boardPorts, listPorts } from './ports';

export interface FlashArgs {
  port?: string;
  baud: number;
  file: string;
  /** The version the board must report after the upload (package.json's). */
  version?: string;
  timeout: number;
  log?: (line: string) => void;
}

/** Source characters per JsVar, the build's estimate (tools/build). */
const CHARS_PER_JSVAR = 12;
/** Characters of image per console line: small enough for any board's input buffer. */
const CHUNK = 512;

export class FlashError extends Error {}

/** JsVars the image needs to run: its code plus room for the app's buffers, sockets and timers. */
export function jsVarsNeeded(imageBytes: number, total: number): { code: number; headroom: number } {
  return { code: Math.ceil(imageBytes / CHARS_PER_JSVAR), headroom: Math.max(600, Math.ceil(total * 0.1)) };
}

/** A JS string literal with only printable ASCII in it, so the console line survives any terminal. */
function literal(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

export async function flashUpload(args: FlashArgs): Promise<void> {
  const log = args.log || ((l: string) => console.log(l));
  const image = fs.readFileSync(args.file, 'latin1');
  const port = args.port || await findBoard();
  log('board on ' + port + ', image ' + args.file + ' (' + image.length + ' bytes)');
  let con: ConsoleClient;
  try {
    con = await ConsoleClient.open(port, args.baud);
  } catch (e) {
    throw new FlashError('no board found: ' + (e as Error).message);
  }
  try {
    try {
      await con.hello();
    } catch (e) {
      throw new FlashError('board not answering: ' + (e as Error).message + ' (is it an Espruino board at ' + args.baud + ' baud?)');
    }
    // a clean RAM first, so free memory is what the image will have, and no app is running during the upload
    const before = con.text.length;
    await con.write('\x10reset()\n');
    await con.expect(/espruino\.com/, 10000, 'the board to reset', before).catch(() => { throw new FlashError('board not answering after reset()'); });
    await con.hello();
    const mem = await con.eval<{ free: number; total: number }>('process.memory()');
    const storageFree = await con.eval<number>('require("Storage").getFree()');
    const need = jsVarsNeeded(image.length, mem.total);
    log('board memory: ' + mem.free + ' of ' + mem.total + ' JsVars free; Storage ' + storageFree + ' bytes free');
    if (mem.free < need.code + need.headroom) {
      throw new FlashError('image too large for this board: about ' + need.code + ' JsVars of code plus ' + need.headroom +
        ' to run, but only ' + mem.free + ' of ' + mem.total + ' are free (use --profile small, or a board with more memory)');
    }
    if (storageFree < image.length + 64) throw new FlashError('image too large for Storage: ' + image.length + ' bytes, ' + storageFree + ' free');
    // saved state (save()) and always-run boot code would run alongside the new image
    await con.eval('(function(s){s.erase(".varimg");s.erase(".bootrst");s.erase(".bootcde");})(require("Storage"))');
    for (let at = 0; at < image.length; at += CHUNK) {
      const piece = image.substring(at, at + CHUNK);
      const ok = await con.eval<boolean>('require("Storage").write(".bootcde",' + literal(piece) + ',' + at + ',' + image.length + ')', 10000);
      if (ok === false) throw new FlashError('Storage.write failed at byte ' + at + ' (flash full?)');
      if (at % (CHUNK * 16) === 0) log('  ' + Math.round((100 * at) / image.length) + '%');
    }
    const expected = zlib.crc32(Buffer.from(image, 'latin1'));
    const got = await con.eval<[number, number]>('(function(f){return [f?f.length:-1,E.CRC32(f)>>>0];})(require("Storage").read(".bootcde"))', 10000);
    if (got[0] !== image.length || got[1] !== expected) {
      throw new FlashError('verification failed: the board holds ' + got[0] + ' bytes with CRC32 ' + got[1] + ', expected ' + image.length + ' bytes with CRC32 ' + expected);
    }
    log('written and verified: ' + image.length + ' bytes, CRC32 ' + expected.toString(16));
    const from = con.text.length;
    await con.write('\x10load()\n'); // boots from Storage as at power-on: .bootcde, then onInit
    const boot = await con.telemetry((t) => t.ev === 'boot', args.timeout * 1000, 'the new firmware to boot and report', from)
      .catch((e) => { throw new FlashError('verification failed: ' + (e as Error).message); }) as { fw?: string; profile?: string; id: string };
    if (args.version && boot.fw !== args.version) throw new FlashError('verification failed: the board reports firmware ' + boot.fw + ', expected ' + args.version);
    log('board ' + boot.id + ' runs firmware ' + boot.fw + ' (' + boot.profile + ')');
  } finally {
    await con.close();
  }
}

async function findBoard(): Promise<string> {
  const list = await listPorts();
  const ports = boardPorts(list);
  if (ports.length === 0) throw new FlashError('no board found' + (list.warning ? ' (' + list.warning + ')' : ' by USB id') + '; give --port');
  if (ports.length > 1) throw new FlashError('several boards found (' + ports.join(', ') + '); give --port');
  return ports[0];
}
