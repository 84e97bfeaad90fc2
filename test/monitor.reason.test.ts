// Board bundles name MQTT 5 reason codes and 3.1.1 return codes by number; the monitor adds the name where a person reads it.
import { strict as assert } from 'assert';
import { nameReasons } from '../tools/monitor/reason';

describe('monitor: reason codes by name', () => {
  it('follows each known "reason 0xNN" with its name, and leaves unknown codes and other text alone', () => {
    assert.equal(nameReasons('connection refused: reason 0x87'), 'connection refused: reason 0x87 (Not authorized)');
    assert.equal(nameReasons('broker disconnected: reason 0x8e; then reason 0x95'), 'broker disconnected: reason 0x8e (Session taken over); then reason 0x95 (Packet too large)');
    assert.equal(nameReasons('reason 0x7f'), 'reason 0x7f');
    assert.equal(nameReasons('keepalive timeout: no PINGRESP'), 'keepalive timeout: no PINGRESP');
  });

  it('names a 3.1.1 CONNACK return code (1-5) the same way', () => {
    assert.equal(nameReasons('connection refused: return code 5'), 'connection refused: return code 5 (not authorized)');
    assert.equal(nameReasons('return code 0; return code 6'), 'return code 0; return code 6');
  });
});
