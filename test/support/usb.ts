// Simulated boards on USB-like pseudo-terminals for the serial tools' tests: the full firmware image
// installed as boot code, configured for a test broker, plugged in.
import { installFirmware, UsbBoard } from '../../host-sim/console';
import type { Cleanup } from './broker';

/** Plugs in `n` boards `desk-1`..`desk-n` on `<dir>/host-1`.. that report telemetry every 0.3 s. */
export async function deskBoards(dir: string, brokerUrl: string, n: number, cleanup: Cleanup): Promise<UsbBoard[]> {
  const list: UsbBoard[] = [];
  for (let i = 1; i <= n; i++) {
    const b = new UsbBoard({ dir, port: 'host-' + i });
    installFirmware(b.console.storage, 'full', { id: 'desk-' + i, broker: brokerUrl, interval: 1, telemetry: 0.3 });
    await b.plug();
    cleanup.add(() => b.unplug());
    list.push(b);
  }
  return list;
}
