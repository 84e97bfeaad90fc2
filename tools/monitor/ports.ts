// `sparrow ports`: the serial ports serialport sees, marked when their USB ids are those of an
// Espruino board or a USB-serial chip such boards carry. Where udev is missing (containers, CI),
// serialport's list() fails with `spawn udevadm ENOENT`: then /dev/ttyUSB*, /dev/ttyACM* and the
// ports given on the command line are listed from the file system, and the reason is said.
import * as fs from 'fs';
import * as path from 'path';
import { SerialPort } from 'serialport';

/** USB vendor:product ids of boards that run Espruino, and of the USB-serial chips on them ('*' any product). */
export const KNOWN_USB: { [vidPid: string]: string } = {
  '0483:5740': 'Espruino (original, Pico, WiFi)',
  '10c4:ea60': 'CP210x USB-serial (ESP32 DevKit, ESP8266 NodeMCU)',
  '1a86:7523': 'CH340 USB-serial (ESP32/ESP8266 clones)',
  '1a86:55d4': 'CH9102 USB-serial (ESP32 DevKit v4)',
  '0403:6001': 'FTDI FT232R USB-serial',
  '0403:6015': 'FTDI FT231X USB-serial',
  '303a:*': 'Espressif native USB (ESP32-S2/S3/C3)',
};

export interface PortInfo {
  path: string;
  vendorId?: string;
  productId?: string;
  manufacturer?: string;
  serialNumber?: string;
  /** What the USB ids say the port is, when known. */
  kind?: string;
}

export interface PortList {
  ports: PortInfo[];
  /** Why the list may be incomplete (no udev), for the user. */
  warning?: string;
}

export function knownKind(vendorId?: string, productId?: string): string | undefined {
  if (!vendorId) return undefined;
  const v = vendorId.toLowerCase(), p = (productId || '').toLowerCase();
  return KNOWN_USB[v + ':' + p] || KNOWN_USB[v + ':*'];
}

/** USB serial devices by name, for hosts where serialport cannot ask udev. */
function devNodes(): string[] {
  try {
    return fs.readdirSync('/dev').filter((n) => /^tty(USB|ACM)\d+$/.test(n)).map((n) => path.join('/dev', n)).sort();
  } catch {
    return [];
  }
}

/** Every port seen, the given ones (ptys, symlinks) included when they exist. */
export async function listPorts(extra: string[] = []): Promise<PortList> {
  let ports: PortInfo[] = [];
  let warning: string | undefined;
  try {
    ports = (await SerialPort.list()).map((p) => ({
      path: p.path, vendorId: p.vendorId, productId: p.productId, manufacturer: p.manufacturer, serialNumber: p.serialNumber,
      kind: knownKind(p.vendorId, p.productId),
    }));
  } catch (e) {
    const msg = (e as Error).message;
    warning = /udevadm/.test(msg)
      ? 'udevadm is not installed (no udev here, as in containers): USB ids are unknown; listing /dev/ttyUSB*, /dev/ttyACM* and the ports given. Install Debian\'s `udev` package for USB ids.'
      : 'serialport could not list ports (' + msg + '); listing /dev/ttyUSB*, /dev/ttyACM* and the ports given.';
  }
  const seen = new Set(ports.map((p) => p.path));
  for (const p of devNodes().concat(extra)) {
    if (!seen.has(p) && fs.existsSync(p)) { ports.push({ path: p }); seen.add(p); }
  }
  return { ports, warning };
}

/** Ports that look like boards: known USB ids, or (without udev) any USB serial device node. */
export function boardPorts(list: PortList): string[] {
  return list.ports.filter((p) => p.kind || (!p.vendorId && /\/tty(USB|ACM)\d+$/.test(p.path))).map((p) => p.path);
}

export function formatPorts(list: PortList): string {
  const lines: string[] = [];
  if (list.warning) lines.push('note: ' + list.warning, '');
  if (list.ports.length === 0) lines.push('no serial ports found');
  for (const p of list.ports) {
    const ids = p.vendorId ? p.vendorId + ':' + (p.productId || '?') : '-';
    lines.push([p.path.padEnd(24), ids.padEnd(10), p.kind ? 'board  ' + p.kind : p.vendorId ? 'other  ' + (p.manufacturer || '') : 'unknown'].join(' ').trimEnd());
  }
  return lines.join('\n');
}
