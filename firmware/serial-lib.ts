// Entry of dist/espruino/sparrow-serial.{small,full}.js: MQTT over a serial line to `sparrow bridge`
// (docs/serial.md), a module of its own so that boards on a network do not pay for it. On a board:
//   var m = require("sparrow-mqtt");
//   var client = m.create(require("sparrow-serial").serialPlatform(m.espruinoPlatform(), Serial1))
//     .connect("mqtt://bridge", { clientId: "b1" });
import { serialPlatform } from './transports/serial';

declare const exports: { [name: string]: unknown };

exports.serialPlatform = serialPlatform;
