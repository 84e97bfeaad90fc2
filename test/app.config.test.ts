// The sensor application's config and provisioning, on the built firmware image: what an invalid
// config says, and sparrow.configure()/config() as the console provisioning calls them.
import { strict as assert } from 'assert';
import { TestBoard } from './support/app';
import { Cleanup, startBroker, type TestBroker } from './support/broker';
import { until } from './support/wait';

describe('app: config and provisioning', function () {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  function board(config?: object | string): TestBoard {
    const b = new TestBoard({ config });
    cleanup.add(() => b.stop());
    return b;
  }

  async function broker(): Promise<TestBroker> {
    const t = await startBroker();
    cleanup.add(() => t.broker.close());
    return t;
  }

  const invalid: Array<[string, object | string | undefined, string]> = [
    ['no config file', undefined, 'sparrow.json: broker: not set'],
    ['text that is not JSON', '{"broker": ', 'sparrow.json: not JSON'],
    ['JSON that is not an object', '42', 'sparrow.json: not a JSON object'],
    ['a broker URL of another scheme', { broker: 'http://example.com' }, 'sparrow.json: broker: not an mqtt://, mqtts://, ws:// or wss:// URL'],
    ['a misspelt setting', { broker: 'mqtt://h', pasword: 'x' }, 'sparrow.json: pasword: unknown setting'],
    ['a setting of the wrong type', { broker: 'mqtt://h', interval: '5' }, 'sparrow.json: interval: must be a number'],
    ['an interval out of range', { broker: 'mqtt://h', interval: 0 }, 'sparrow.json: interval: seconds from 0.1 to 86400'],
    ['an id that is not one topic level', { broker: 'mqtt://h', id: 'a/b' }, 'sparrow.json: id: must be one topic level (no / + #)'],
    ['a password without a username', { broker: 'mqtt://h', password: 'x' }, 'sparrow.json: password: needs a username'],
    ['a prefix with a wildcard', { broker: 'mqtt://h', prefix: 'fleet/+' }, 'sparrow.json: prefix: must be topic levels (no + #, no empty level)'],
  ];
  for (const [what, config, error] of invalid) {
    it(`invalid config (${what}): an error line says why, and the board waits unconfigured without connecting`, async () => {
      const b = board(config);
      b.app.start();
      const line = await b.status((s) => s.ev === 'error', 'the error line');
      assert.equal(line.error, error);
      assert.equal(line.mqtt, 'unconfigured');
      assert.equal(b.telemetry()[0].ev, 'boot');
      assert.equal(b.sockets.length, 0);
    });
  }

  it('the small image, which has no WebSocket, refuses a ws:// broker in its config instead of failing to connect', async () => {
    const b = new TestBoard({ config: { broker: 'ws://127.0.0.1:1/mqtt' }, profile: 'small' });
    cleanup.add(() => b.stop());
    b.app.start();
    const line = await b.status((s) => s.ev === 'error', 'the error line');
    assert.equal(line.error, 'sparrow.json: broker: ws:// needs the full image');
    assert.equal(b.sockets.length, 0);
  });

  it('sparrow.configure() stores the config, answers with the passwords masked, and the board starts with it', async () => {
    const t = await broker();
    const b = board();
    b.app.start();
    await b.status((s) => s.mqtt === 'unconfigured', 'waiting for provisioning');
    const from = b.lines.length;
    b.app.configure({ id: 'p1', broker: t.url, ssid: 'lab', wifiPassword: 'hunter2', username: 'u', password: 's3cret', interval: 30 });
    const answer = await b.configLine(from);
    assert.deepEqual(answer, {
      ev: 'config', id: 'p1', ok: true,
      config: { id: 'p1', ssid: 'lab', wifiPassword: '***', broker: t.url, username: 'u', password: '***', interval: 30, telemetry: 10, prefix: 'sparrow', pin: '', discovery: '' },
    });
    assert.deepEqual(JSON.parse(b.files['sparrow.json']), { ...answer.config, wifiPassword: 'hunter2', password: 's3cret' });
    await b.status((s) => s.ev === 'connected', 'connected with the new config', from);
    assert.ok(!b.lines.some((l) => l.includes('hunter2') || l.includes('s3cret')), 'a password reached the console');
  });

  it('sparrow.config() prints the stored config with secrets masked, and "" for secrets not set', async () => {
    const b = board({ broker: 'mqtt://10.0.0.2', username: 'u', password: 'pw' });
    b.app.config();
    const line = await b.configLine(0);
    assert.equal(line.ok, true);
    assert.equal((line.config as { password: string }).password, '***');
    assert.equal((line.config as { wifiPassword: string }).wifiPassword, '');
    assert.ok(!b.lines.join('\n').includes('"pw"'));
  });

  it('sparrow.config() of an invalid stored config says why it cannot run', async () => {
    const b = board({ broker: 'mqtt://h', interval: -1 });
    b.app.config();
    const line = await b.configLine(0);
    assert.equal(line.ok, false);
    assert.equal(line.error, 'sparrow.json: interval: seconds from 0.1 to 86400');
  });

  it('an invalid configure() is refused with the reason; Storage and the running board are left as they were', async () => {
    const b = board({ broker: 'mqtt://10.0.0.2', id: 'keep' });
    const before = b.files['sparrow.json'];
    b.app.configure({ interval: 'fast', password: 'nope' });
    const line = await b.configLine(0);
    assert.equal(line.ok, false);
    assert.equal(line.error, 'interval: must be a number');
    assert.equal((line.config as { password: string }).password, '***');
    assert.equal(b.files['sparrow.json'], before);
    assert.equal(b.telemetry().filter((t) => t.ev === 'boot').length, 0, 'the board restarted');
  });

  it('configure() merges into the stored config, and null puts a setting back to its default', async () => {
    const t = await broker();
    const b = board({ broker: t.url, id: 'm1', prefix: 'lab', interval: 5 });
    b.app.configure({ prefix: null, telemetry: 0 });
    const line = await b.configLine(0);
    assert.equal(line.ok, true);
    assert.deepEqual(JSON.parse(b.files['sparrow.json']), {
      id: 'm1', ssid: '', wifiPassword: '', broker: t.url, username: '', password: '', interval: 5, telemetry: 0, prefix: 'sparrow', pin: '', discovery: '',
    });
  });

  it('without a stored id the device id comes from the chip serial', async () => {
    const b = new TestBoard({ config: { broker: 'mqtt://10.0.0.2' }, extend: (p) => { p.serial = () => '24:0a:c4:12:34:56'; } });
    b.app.config();
    assert.equal((await b.configLine(0)).id, 'sparrow-240ac4123456');
  });

  it('with Wi-Fi on the platform it joins the network first, says so, and reports a failed join', async () => {
    const t = await broker();
    let state = 'off';
    const joins: string[] = [];
    let answer: ((e?: string) => void) | null = null;
    const b = new TestBoard({
      config: { id: 'w1', broker: t.url, ssid: 'lab', wifiPassword: 'right', telemetry: 0 },
      extend: (p) => {
        p.wifi = {
          connect: (ssid, password, cb) => { joins.push(ssid + ':' + password); state = 'connecting'; answer = cb; },
          status: () => state,
        };
      },
    });
    cleanup.add(() => b.stop());
    b.app.start();
    const joining = await b.status((s) => s.ev === 'wifi', 'the Wi-Fi line');
    assert.equal(joining.wifi, 'connecting');
    assert.equal(joining.mqtt, 'off');
    assert.deepEqual(joins, ['lab:right']);
    assert.equal(b.sockets.length, 0, 'MQTT must wait for Wi-Fi');
    state = 'wrong_password';
    answer!('bad password');
    const failed = await b.status((s) => s.ev === 'error', 'the error line');
    assert.equal(failed.error, 'wifi: bad password');
    assert.equal(failed.wifi, 'wrong_password');
    // the retry comes after 10 s; a provisioning call restarts at once
    b.app.configure({ wifiPassword: 'right' });
    await until(() => joins.length === 2, 'a second join');
    state = 'connected';
    answer!();
    const up = await b.status((s) => s.ev === 'connected', 'MQTT after Wi-Fi');
    assert.equal(up.wifi, 'connected');
    assert.ok(!b.lines.some((l) => l.includes('right')), 'the Wi-Fi password reached the console');
  });
});
