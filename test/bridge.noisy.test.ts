// MQTT over a noisy serial line: a simulated board (the built bundle's client, on the serial transport)
// publishes through a virtual line that corrupts and drops bytes at 115200 baud, into a real
// pseudo-terminal, through `sparrow bridge` (the built CLI, a process with the real serialport), to the
// in-process broker. Every QoS 1 and QoS 2 message must arrive exactly as sent; QoS 2 exactly once.
import { strict as assert } from 'assert';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SerialPort } from 'serialport';
import { crc16, SerialLink } from '../firmware/transports/serial-frame';
import { bundlePath, loadBundle, type SerialBundle } from '../host-sim/bundle';
import { openPtyPair } from '../host-sim/console';
import { nodePlatform } from '../host-sim/platform/node';
import { serialLine } from '../host-sim/platform/serial-link';
import { Cleanup, client, inbox, startBroker } from './support/broker';
import { until } from './support/wait';
import { CLI } from './support/cli';


describe('serial framing (firmware/transports/serial-frame)', () => {
  it('CRC-16/CCITT-FALSE of "123456789" is 0x29B1', () => {
    assert.equal(crc16(new Uint8Array(Buffer.from('123456789')), 0, 9), 0x29b1);
  });

  it('a corrupted byte costs one frame, which is sent again; the stream arrives whole and in order', async () => {
    const line = serialLine({ baud: 1e6, corrupt: 0.002, loss: 0.001, seed: 7 });
    const timers = { setTimeout, clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
    const got: number[] = [];
    let opened = false;
    const board = new SerialLink((s) => line.a.write(s), timers, { open: () => { opened = true; }, data: () => undefined, close: (r) => assert.fail(r) }, { retransmitMs: 30, queueBytes: 4096 });
    const host = new SerialLink((s) => line.b.write(s), timers, { open: () => undefined, data: (b, s, e) => { for (let i = s; i < e; i++) got.push(b[i]); }, close: (r) => assert.fail(r) }, { retransmitMs: 30 });
    line.a.on('data', (d) => board.input(d));
    line.b.on('data', (d) => host.input(d));
    board.open(0.5);
    await until(() => opened, 'the session');
    const sent: number[] = [];
    for (let i = 0; i < 3000; i++) sent.push((i * 7 + (i % 3 ? 0xc0 : 0xdb)) & 255);
    for (let i = 0; i < sent.length; i += 100) assert.ok(board.write(new Uint8Array(sent.slice(i, i + 100)), 100));
    await until(() => got.length >= sent.length, 'every byte', 20000);
    line.stop();
    board.close();
    host.close();
    assert.deepEqual(got, sent);
    assert.ok(line.toB.corrupted + line.toB.lost > 0 && host.stats.bad + board.stats.resent > 0, 'the noise did something');
  });
});

describe('sparrow bridge over a noisy serial line', function () {
  this.timeout(90000);
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  for (const qos of [1, 2] as const) {
    it(`QoS ${qos}: every message arrives exactly as sent${qos === 2 ? ', once' : ''}`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-bridge-'));
      cleanup.add(() => fs.rmSync(dir, { recursive: true, force: true }));
      const broker = await startBroker();
      cleanup.add(() => broker.broker.close());
      const sub = await client(broker.url, { clientId: 'checker' }, cleanup);
      await sub.subscribeAsync('serial/#', { qos: 2 });
      const box = inbox(sub);

      // board UART -> noisy line -> pty -> sparrow bridge -> broker
      const pair = await openPtyPair(path.join(dir, 'board'), path.join(dir, 'ttyUSB0'));
      cleanup.add(() => pair.close());
      const line = serialLine({ baud: 115200, corrupt: 0.002, loss: 0.002, seed: qos });
      cleanup.add(() => line.stop());
      const uart = new SerialPort({ path: pair.board, baudRate: 115200 });
      cleanup.add(() => new Promise<void>((r) => (uart.isOpen ? uart.close(() => r()) : r())));
      uart.on('data', (d: Buffer) => line.b.write(d.toString('latin1')));
      line.b.on('data', (d) => uart.write(Buffer.from(d, 'latin1')));
      const bridge: ChildProcess = spawn(process.execPath, [CLI, 'bridge', pair.host, '--broker', broker.url, '--json', '--status', '0.5'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let bridgeOut = '';
      bridge.stdout!.on('data', (d) => { bridgeOut += d; });
      bridge.stderr!.on('data', (d) => { bridgeOut += d; });
      cleanup.add(() => new Promise<void>((r) => { if (bridge.exitCode !== null) return r(); bridge.once('exit', () => r()); bridge.kill('SIGTERM'); }));
      await until(() => /port-open/.test(bridgeOut), 'the bridge to open the port: ' + bridgeOut);

      const bundle = loadBundle(bundlePath('full'));
      // the serial transport as built for the board (dist/espruino/sparrow-serial.full.js), like the client on top of it
      const serial = loadBundle<SerialBundle>(bundlePath('full', 'sparrow-serial'));
      const platform = serial.serialPlatform(nodePlatform({ log: () => undefined }), line.a, { retransmitMs: 150 });
      const board = bundle.create(platform).connect('mqtt://bridge', { clientId: 'serial-board-' + qos, keepalive: 30, reconnectPeriod: 200 });
      cleanup.add(() => new Promise<void>((r) => board.end(() => r())));
      await new Promise<void>((resolve) => board.on('connect', () => resolve()));

      const N = 60;
      const sent = new Map<string, Buffer>();
      let acked = 0, next = 0;
      const errors: string[] = [];
      // a window of 10 in flight, below the client's store limit: a refusal would be an error here
      const publishNext = () => {
        const i = next++;
        if (i >= N) return;
        // payloads full of SLIP's special bytes, so escaping is exercised under noise
        const payload = Buffer.from([i, 0xc0, 0xdb, 0xdc, 0xdd, ...Buffer.from('reading ' + i), 0xc0, 0xdb]);
        sent.set('serial/m' + i, payload);
        board.publish('serial/m' + i, new Uint8Array(payload), { qos }, (e) => { if (e) errors.push(String((e as { message?: string }).message)); else acked++; publishNext(); });
      };
      for (let k = 0; k < 10; k++) publishNext();
      await until(() => acked === N || errors.length > 0, `${N} acknowledgements`, 60000);
      assert.deepEqual(errors, []);
      await until(() => new Set(box.list.map((m) => m.topic)).size === N, 'every message at the subscriber', 10000);
      for (const m of box.list) assert.deepEqual(m.payload, sent.get(m.topic), m.topic);
      if (qos === 2) assert.equal(box.list.length, N, 'QoS 2: no duplicates');
      assert.ok(line.toA.corrupted + line.toA.lost + line.toB.corrupted + line.toB.lost > 0, 'the line was noisy');
      assert.match(bridgeOut, /"event":"status"[^\n]*"bad":[1-9]|"event":"status"[^\n]*"resent":[1-9]|"event":"status"[^\n]*"duplicates":[1-9]/, 'the bridge saw the noise');
    });
  }
});
