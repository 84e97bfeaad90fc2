// Sparrow's client on Node, written as for MQTT.js: connect, subscribe, publish at QoS 1, read the
// messages back as Buffers, end cleanly. Installed:  npm install sparrow-mqtt
// From a clone (after `npm run build`):  node examples/node/pubsub.js [BROKER_URL] [COUNT]
//   BROKER_URL  mqtt://, mqtts://, ws:// or wss://, with user:password@ if the broker needs a login
//               (default mqtt://127.0.0.1:1883)
//   COUNT       readings to send and wait for (default 3)
'use strict';
const mqtt = require('sparrow-mqtt');

async function main() {
  const url = process.argv[2] || 'mqtt://127.0.0.1:1883';
  const count = Number(process.argv[3] || 3);
  const client = await mqtt.connectAsync(url, { clientId: 'example-' + process.pid, reconnectPeriod: 1000 });
  client.on('error', (e) => console.error('error:', e.message));
  const topic = 'examples/' + client.options.clientId + '/temperature';
  let received = 0;
  const all = new Promise((resolve) => {
    client.on('message', (t, payload) => {
      console.log('received', t, payload.toString());
      if (++received === count) resolve();
    });
  });
  const granted = await client.subscribeAsync(topic, { qos: 1 });
  console.log('subscribed', granted.map((g) => g.topic + ' qos ' + g.qos).join(', '));
  for (let i = 0; i < count; i++) {
    await client.publishAsync(topic, (20 + i / 10).toFixed(2), { qos: 1 });
    console.log('acknowledged', i + 1);
  }
  await all;
  await client.endAsync();
  console.log('done');
}

main().catch((e) => {
  // connectAsync rejects with MQTT.js's errors: ECONNREFUSED, or the broker's refusal (code 5: not authorized)
  console.error('pubsub: ' + e.message + (e.code !== undefined ? ' (code ' + e.code + ')' : ''));
  process.exit(1);
});
