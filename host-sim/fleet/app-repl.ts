// An --app board's console on a pseudo-terminal (`sparrow sim --app --pty DIR`): the Espruino-like REPL of
// host-sim/console on the board's Storage, wired to the fleet's board as a board's RAM is to what runs in
// it. When the console's RAM ends (reset(), E.reboot(), load(), power off) the board's app halts. When
// it boots again, the board runs the image flashed to its Storage (`.bootcde`, what flash.sh writes),
// which the console booted as it boots a UsbBoard; without one, the fleet's own app boots again. After
// reset() nothing runs until the next boot, as on a board.
import * as path from 'path';
import type { App } from '../../firmware/app/app';
import { attachConsole, openPtyPair, SimConsole, SimStorage } from '../console';
import type { Fleet } from './fleet';

export interface AppRepl {
  console: SimConsole;
  /** The board's Storage files, shared by the REPL's require("Storage") and the app (sparrow.json). */
  files: { [name: string]: string };
  close(): Promise<void>;
}

/**
 * DIR/board-<id> is the end a USB tool opens (DIR/board-<id>.sim the simulator's). In the REPL `sparrow`
 * is the board's running app, and what the app prints is console output. `note` tells the user of the
 * simulator (not the board's console) that a board now runs an image flashed to it.
 */
export async function openAppRepl(fleet: Fleet, id: number, dir: string, note: (text: string) => void): Promise<AppRepl> {
  const files: { [name: string]: string } = {};
  const board = () => fleet.appBoards.find((b) => b.o.id === id);
  let ram: { [name: string]: unknown } = {};
  const con = new SimConsole({
    storage: new SimStorage(256 * 1024, undefined, files),
    serialNumber: 'a4cf12' + (0x100000 + id).toString(16).slice(-6),
    globals: (g) => {
      ram = g;
      // the fleet's app, until an image booted from Storage sets its own `sparrow`, as it does on a board
      Object.defineProperty(g, 'sparrow', {
        get: () => { const b = board(); return b ? b.app : undefined; },
        set: (app) => Object.defineProperty(g, 'sparrow', { value: app, writable: true, enumerable: true, configurable: true }),
        enumerable: true, configurable: true,
      });
    },
  });
  con.on('kill', () => { const b = board(); if (b) b.halt(); });
  con.on('boot', (how: string, ran: string[]) => {
    const b = board();
    if (!b || how === 'reset') return;
    const was = b.firmware;
    if (ran.indexOf('.bootcde') >= 0) b.runFlashed(appOf(ram.sparrow));
    else b.reboot();
    // said once a switch, not at every reboot
    if (b.firmware !== was) {
      note(`board ${id} (${b.deviceId}) runs ` + (b.firmware === 'flashed' ? 'the image flashed to its Storage (.bootcde), not the fleet\'s app' : 'the fleet\'s app again (no .bootcde in its Storage)'));
    }
  });
  // lines printed by code in the console's RAM: a flashed image's telemetry (the fleet's app logs to the board itself)
  con.on('print', lineReader((line) => { const b = board(); if (b) b.telemetry(line); }));
  const host = path.join(dir, 'board-' + id);
  const pair = await openPtyPair(host + '.sim', host);
  let detach: () => Promise<void>;
  try {
    detach = await attachConsole(con, host + '.sim');
  } catch (e) {
    await pair.close();
    throw e;
  }
  con.powerOn();
  return {
    console: con, files,
    close: async () => { con.powerOff(); await detach(); await pair.close(); },
  };
}

/** The `sparrow` an image made, if it looks like the app: anything can be flashed. */
function appOf(value: unknown): App | null {
  const app = value as App | null | undefined;
  return app && typeof app === 'object' && typeof app.status === 'function' && typeof app.stop === 'function' ? app : null;
}

/** Console text, in any pieces, to whole lines without their \r\n. */
function lineReader(onLine: (line: string) => void): (text: string) => void {
  let partial = '';
  return (text) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    for (const line of lines) onLine(line.replace(/\r$/, ''));
  };
}
