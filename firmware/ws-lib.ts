// Entry of dist/espruino/sparrow-ws.{small,full}.js: MQTT over WebSocket (ws://, wss://), a module of
// its own so that boards which reach their broker on 1883/8883 do not pay for the framing. On a board:
//   var m = require("sparrow-mqtt");
//   var client = m.create(require("sparrow-ws").withWebSocket(m.espruinoPlatform()))
//     .connect("ws://broker.local/mqtt", { clientId: "b1" });
import { withWebSocket } from './transports/websocket';

declare const exports: { [name: string]: unknown };

exports.withWebSocket = withWebSocket;
