// `sparrow provision PORT --wifi SSID --wifi-password PW --broker URL --id ID --interval S`: gives a board
// running the Sparrow firmware its settings over the console, the way a person would type them, but
// checked at every step: the board answers, the firmware is there, the config is accepted and reads
// back the same, the board reboots, and its telemetry shows MQTT connected. Any failed step exits 1
// with the reason. Secrets go to the board on DLE lines (not echoed, docs/console-protocol.md) and are
// never printed: what is shown is the board's own masked read-back.
import type { ConfigLine } from '../firmware/app/telemetry';
import { ConsoleClient, ConsoleError } from './monitor/console-client';

export interface ProvisionArgs {
  port: string;
  baud: number;
  settings: { [name: string]: string | number };
  /** Seconds to wait for MQTT connected after the reboot. */
  timeout: number;
  log?: (line: string) => void;
}

/** Settings that are secrets: compared as "set" (the board shows "***"), never printed. */
const SECRETS = ['wifiPassword', 'password'];

export async function provision(args: ProvisionArgs): Promise<void> {
  const log = args.log || ((l: string) => console.log(l));
  const step = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    try {
      const r = await f();
      log('ok   ' + what);
      return r;
    } catch (e) {
      throw new ConsoleError(what + ' failed: ' + (e as Error).message);
    }
  };
  const con = await step('open ' + args.port, () => ConsoleClient.open(args.port, args.baud));
  try {
    await step('board answers', () => con.hello());
    const fw = await step('Sparrow firmware present', async () => {
      const v = await con.eval<string | null>('typeof sparrow=="object"&&sparrow.configure?"yes":null');
      if (!v) throw new ConsoleError('no `sparrow` object on the board: flash the firmware first (./flash.sh)');
      return v;
    });
    void fw;
    let from = con.text.length;
    const accepted = await step('config accepted', async () => {
      await con.eval('sparrow.configure(' + JSON.stringify(args.settings) + ')');
      const line = await con.telemetry((t) => t.ev === 'config', 5000, 'the board\'s answer to configure()', from) as ConfigLine;
      if (!line.ok) throw new ConsoleError('the board refused the config: ' + line.error);
      return line;
    });
    void accepted;
    from = con.text.length;
    const back = await step('config reads back the same', async () => {
      await con.eval('sparrow.config()');
      const line = await con.telemetry((t) => t.ev === 'config', 5000, 'the config read back', from) as ConfigLine;
      const stored = (line.config || {}) as { [k: string]: unknown };
      for (const k of Object.keys(args.settings)) {
        const want = SECRETS.indexOf(k) >= 0 ? (args.settings[k] ? '***' : '') : args.settings[k];
        if (stored[k] !== want) throw new ConsoleError(k + ' reads back as ' + (SECRETS.indexOf(k) >= 0 ? 'a different value' : JSON.stringify(stored[k])) + ', not ' + (SECRETS.indexOf(k) >= 0 ? 'the one written' : JSON.stringify(want)));
      }
      return line;
    });
    log('     ' + JSON.stringify(back.config));
    from = con.text.length;
    await step('reboot', async () => {
      await con.write('\x10E.reboot()\n');
      await con.telemetry((t) => t.ev === 'boot', 10000, 'the board to boot again', from);
    });
    const id = String(args.settings.id || back.id);
    const seconds = args.timeout;
    const up = await step('MQTT connected', () => con.telemetry(
      (t) => t.id === id && (t as { mqtt?: string }).mqtt === 'connected', seconds * 1000, 'MQTT connected in telemetry', from,
      (t) => ((t as { error?: string | null }).error && /^(sparrow\.json|wifi: (auth|wrong|no_ap))/.test((t as { error: string }).error) ? 'the board says: ' + (t as { error: string }).error : null)));
    log('     ' + id + ' connected to ' + (up as { broker?: string }).broker);
  } finally {
    await con.close();
  }
}

/** The settings the options give, in the app's names (firmware/app/config.ts). */
export function provisionSettings(values: { [k: string]: unknown }): { settings: { [name: string]: string | number }; error?: string } {
  const s: { [name: string]: string | number } = {};
  const str = (opt: string, key: string) => { if (typeof values[opt] === 'string') s[key] = values[opt] as string; };
  // every MQTT tool's --password is the broker's: the Wi-Fi one has a name that says so, and the old use is refused
  if (values.password !== undefined) return { settings: s, error: '--password is ambiguous: the Wi-Fi password is --wifi-password, the broker\'s --mqtt-password' };
  str('wifi', 'ssid'); str('wifi-password', 'wifiPassword'); str('broker', 'broker'); str('id', 'id');
  str('username', 'username'); str('mqtt-password', 'password'); str('prefix', 'prefix');
  for (const [opt, key] of [['interval', 'interval'], ['telemetry', 'telemetry']]) {
    if (values[opt] === undefined) continue;
    const n = Number(values[opt]);
    if (!(n > 0)) return { settings: s, error: '--' + opt + ' must be a number of seconds' };
    s[key] = n;
  }
  if (!s.broker) return { settings: s, error: '--broker is required' };
  return { settings: s };
}
