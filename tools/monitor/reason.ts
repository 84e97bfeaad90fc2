// Board bundles name an MQTT 5 reason code by number ("connection refused: reason 0x87"): its text
// would cost the board RAM (see __TEXTS__ in firmware/profile.d.ts). The host has the table, so the
// monitor names the code where a person reads it.
import { REASONS } from '../../firmware/mqtt/constants';

/** `text` with each "reason 0xNN" the host knows followed by its name: "reason 0x87 (Not authorized)". */
export function nameReasons(text: string): string {
  return text.replace(/reason 0x([0-9a-f]{1,2})\b/g, (code, hex: string) => {
    const known = REASONS[parseInt(hex, 16)];
    return known ? code + ' (' + known[0] + ')' : code;
  });
}
