// Board bundles name an MQTT 5 reason code by number ("connection refused: reason 0x87"), and a 3.1.1
// CONNACK return code too ("connection refused: return code 5"): their texts would cost the board RAM
// (see __TEXTS__ in firmware/profile.d.ts). The host has the tables, so the monitor names the code where
// a person reads it.
import { CONNACK_RETURN_CODES, REASONS } from '../../firmware/mqtt/constants';

/**
 * `text` with each "reason 0xNN" and "return code N" the host knows followed by its name:
 * "reason 0x87 (Not authorized)", "return code 5 (not authorized)".
 */
export function nameReasons(text: string): string {
  return text.replace(/reason 0x([0-9a-f]{1,2})\b/g, (code, hex: string) => {
    const known = REASONS[parseInt(hex, 16)];
    return known ? code + ' (' + known[0] + ')' : code;
  }).replace(/return code ([1-5])\b/g, (code, n: string) => code + ' (' + CONNACK_RETURN_CODES[+n] + ')');
}
