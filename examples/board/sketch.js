// A board sketch for Espruino (ESP32) with Sparrow's library read from Storage: join Wi-Fi, connect
// to the broker with a retained birth and will, publish the chip temperature every 10 s at QoS 1, and
// switch LED1 from a command topic. Put the library on the board first, as the module "sparrow-mqtt"
// (docs/espruino.md: Web IDE, `espruino --storage`, or flash.sh's uploader), then send this file
// and type save(). Settings below; the password stays on the board.
var WIFI_SSID = "lab";
var WIFI_PASSWORD = "change-me";
var BROKER = "mqtt://192.168.1.10";
var ID = "desk1";

/** @type {import("sparrow-mqtt").MqttClient} */
var client;

function start() {
  // require() finds the module in Storage: its functions stay in flash, not in RAM
  var mqtt = require("sparrow-mqtt");
  client = mqtt.connect(BROKER, {
    clientId: ID,
    will: { topic: "lab/" + ID + "/status", payload: "offline", qos: 1, retain: true },
  });
  client.on("connect", function () {
    client.publish("lab/" + ID + "/status", "online", { qos: 1, retain: true });
    client.subscribe("lab/" + ID + "/led", { qos: 1 });
  });
  client.on("message", function (topic, payload) {
    // payload is a Uint8Array view, valid during this call: E.toString makes the text
    if (topic === "lab/" + ID + "/led") digitalWrite(LED1, E.toString(payload) === "on");
  });
  client.on("error", function (e) { console.log("mqtt:", e.message); });
  setInterval(function () {
    client.publish("lab/" + ID + "/temperature", E.getTemperature().toFixed(1), { qos: 1 });
  }, 10000);
}

function onInit() {
  require("Wifi").connect(WIFI_SSID, { password: WIFI_PASSWORD }, function (err) {
    if (err) return console.log("wifi:", err);
    start();
  });
}
