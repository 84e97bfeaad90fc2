// The built firmware bundle (dist/espruino, what is flashed), run on Node through the host platform,
// against a real mosquitto with mosquitto_pub/mosquitto_sub as the other end.
import { strict as assert } from 'assert';
import { ChildProcess, spawn, execFile } from 'child_process';
import * as net from 'net';
import { bundlePath, loadBundle } from '../host-sim/bundle';
import { nodePlatform } from '../host-sim/platform/node';
import type { MqttClient } from '../firmware/client';
import { Mosquitto, startMosquitto } from './support/mosquitto';
import { until } from './support/wait';

const sparrow = loadBundle(bundlePath('full'));

/** A client from the bundle; `sockets` lets a test cut its link as a network failure would. */
function board(url: string, options: object): { client: MqttClient; sockets: net.Socket[] } {
  const sockets: net.Socket[] = [];
  const platform = nodePlatform({ log: () => undefined, onSocket: (s) => sockets.push(s) });
  const client = sparrow.create(platform).connect(url, Object.assign({ reconnectPeriod: 50, reconnectPeriodMax: 200 }, options));
  return { client, sockets };
}

/**
 * mosquitto_sub printing `topic payload` lines. It says nothing on stdout when its SUBACK comes (its
 * debug output is block-buffered on a pipe), so it is also subscribed to a probe topic and counts as
 * ready once a probe published there comes back.
 */
async function subscriber(m: Mosquitto, args: string[]): Promise<{ lines: string[]; child: ChildProcess }> {
  const lines: string[] = [];
  const probe = 'probe/' + Math.random().toString(16).slice(2);
  const child = spawn('mosquitto_sub', ['-p', String(m.port), '-h', '127.0.0.1', '-v', '-t', probe, ...args]);
  let buffered = '';
  let ready = false;
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() as string;
    for (const line of parts) {
      if (line.startsWith(probe + ' ')) ready = true;
      else lines.push(line);
    }
  });
  const deadline = Date.now() + 10000;
  while (!ready) {
    if (Date.now() > deadline) throw new Error('mosquitto_sub never received its probe');
    await pub(m, ['-t', probe, '-m', 'x']);
    await until(() => ready, 'probe', 200).catch(() => undefined);
  }
  return { lines, child };
}

function pub(m: Mosquitto, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('mosquitto_pub', ['-p', String(m.port), '-h', '127.0.0.1', ...args], (e) => (e ? reject(e) : resolve()));
  });
}

describe('interop: firmware bundle against mosquitto', function () {
  this.timeout(30000);
  let m: Mosquitto;
  const cleanup: Array<() => void> = [];
  beforeEach(async () => { m = await startMosquitto(); });
  afterEach(async () => {
    while (cleanup.length) (cleanup.pop() as () => void)();
    await m.stop();
  });

  for (const version of [4, 5]) {
    it(`MQTT ${version === 5 ? '5' : '3.1.1'}: publishes at QoS 0, 1 and 2 to mosquitto_sub, each once`, async () => {
      const sub = await subscriber(m, ['-t', 'fleet/#', '-q', '2', '-V', version === 5 ? '5' : '311']);
      cleanup.push(() => sub.child.kill());
      const { client } = board(m.url, { clientId: 'pub-' + version, protocolVersion: version });
      cleanup.push(() => client.end());
      await until(() => client.connected, 'CONNACK');
      const acked: number[] = [];
      for (const qos of [0, 1, 2] as const) client.publish('fleet/b1/q' + qos, 'reading-' + qos, { qos }, (e) => { assert.equal(e, null); acked.push(qos); });
      await until(() => sub.lines.length === 3 && acked.length === 3, 'three messages');
      assert.deepEqual(sub.lines.sort(), ['fleet/b1/q0 reading-0', 'fleet/b1/q1 reading-1', 'fleet/b1/q2 reading-2']);
    });

    it(`MQTT ${version === 5 ? '5' : '3.1.1'}: receives QoS 0, 1 and 2 from mosquitto_pub exactly once`, async () => {
      const { client } = board(m.url, { clientId: 'sub-' + version, protocolVersion: version });
      cleanup.push(() => client.end());
      const got: string[] = [];
      client.on('message', (topic, payload) => got.push(topic + ' ' + Buffer.from(payload as Uint8Array).toString()));
      let granted: unknown = null;
      client.subscribe('cmd/#', { qos: 2 }, (e, g) => { assert.equal(e, null); granted = g; });
      await until(() => client.connected && granted !== null, 'SUBACK');
      assert.deepEqual(granted, [{ topic: 'cmd/#', qos: 2 }]);
      for (const qos of [0, 1, 2]) await pub(m, ['-t', 'cmd/q' + qos, '-m', 'c' + qos, '-q', String(qos)]);
      await until(() => got.length === 3, 'three messages');
      assert.deepEqual(got.sort(), ['cmd/q0 c0', 'cmd/q1 c1', 'cmd/q2 c2']);
    });
  }

  it('retained birth message, and the will published as retained "offline" when the link is cut', async () => {
    const { client, sockets } = board(m.url, {
      clientId: 'b-will', keepalive: 60,
      will: { topic: 'status/b-will', payload: 'offline', qos: 1, retain: true },
    });
    cleanup.push(() => client.end());
    await until(() => client.connected, 'CONNACK');
    let birthAcked = false;
    client.publish('status/b-will', 'online', { qos: 1, retain: true }, () => { birthAcked = true; });
    await until(() => birthAcked, 'birth PUBACK');
    const sub = await subscriber(m, ['-t', 'status/#', '-q', '1']);
    cleanup.push(() => sub.child.kill());
    await until(() => sub.lines.length === 1, 'retained birth');
    assert.deepEqual(sub.lines, ['status/b-will online']);
    sockets[0].destroy(); // a cut, not a DISCONNECT: the broker must publish the will
    await until(() => sub.lines.length >= 2, 'will');
    assert.equal(sub.lines[1], 'status/b-will offline');
  });

  it('persistent session: QoS 1 messages published while the board was cut off arrive after it reconnects', async () => {
    const { client, sockets } = board(m.url, { clientId: 'b-persist', clean: false });
    cleanup.push(() => client.end());
    const got: string[] = [];
    client.on('message', (_t, payload) => got.push(Buffer.from(payload as Uint8Array).toString()));
    let subscribed = false;
    client.subscribe('fleet/b-persist/cmd', { qos: 1 }, () => { subscribed = true; });
    await until(() => subscribed, 'SUBACK');
    let closed = false;
    client.on('close', () => { closed = true; });
    // the messages are published while the link is down: right after the cut, before the backoff ends
    sockets[0].destroy();
    await until(() => closed, 'link down');
    await Promise.all([0, 1, 2, 3, 4].map((i) => pub(m, ['-t', 'fleet/b-persist/cmd', '-m', 'm' + i, '-q', '1'])));
    await until(() => got.length >= 5, 'queued messages after reconnect');
    assert.deepEqual([...new Set(got)].sort(), ['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  it('broker restart in the middle of a QoS 1 stream loses nothing', async () => {
    // the checker is mosquitto_sub with a persistent session; it is replaced after the restart, since
    // mosquitto_sub does not come back by itself, and the new one resumes the same session
    const checker = ['-t', 'stream/#', '-q', '1', '-c', '-i', 'checker'];
    const before = await subscriber(m, checker);
    const { client } = board(m.url, { clientId: 'b-stream', clean: false, storeBytes: 16384, storeSlots: 256 });
    cleanup.push(() => client.end());
    await until(() => client.connected, 'CONNACK');
    const total = 200;
    let refused = 0, acked = 0;
    let after: { lines: string[]; child: ChildProcess } | null = null;
    for (let i = 0; i < total; i++) {
      client.publish('stream/b', 'n' + i, { qos: 1 }, (e) => { if (e) refused++; else acked++; });
      if (i === total / 2) {
        await until(() => acked > 20, 'some acks before the restart');
        await m.restart();
        before.child.kill();
        after = await subscriber(m, checker);
        cleanup.push(() => (after as { child: ChildProcess }).child.kill());
      }
    }
    await until(() => acked === total, 'every PUBACK', 20000);
    const seen = () => new Set([...before.lines, ...(after as { lines: string[] }).lines]);
    await until(() => seen().size === total, 'every message at the checker', 20000);
    assert.equal(refused, 0);
  });
});
