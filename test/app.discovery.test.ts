// Home Assistant MQTT discovery on the built firmware image: with `discovery` set, the board announces
// each reading as a retained sensor config that HA's documented schema accepts, whose state and
// availability topics are the ones the board really uses; without it, nothing is announced.
import { strict as assert } from 'assert';
import { TestBoard, type TestBoardOptions } from './support/app';
import { Cleanup, client, inbox, startBroker, subscribe, type Received, type TestBroker } from './support/broker';
import { DISCOVERY_TOPIC, sensorConfigErrors } from './support/home-assistant';
import { until } from './support/wait';

describe('app: Home Assistant discovery', function () {
  this.timeout(20000);
  const cleanup = new Cleanup();
  let t: TestBroker;
  beforeEach(async () => {
    t = await startBroker();
    cleanup.add(() => t.broker.close());
  });
  afterEach(() => cleanup.run());

  function board(config: object, options: TestBoardOptions = {}): TestBoard {
    const b = new TestBoard({ ...options, config: { broker: t.url, telemetry: 0, ...config } });
    cleanup.add(() => b.stop());
    b.app.start();
    return b;
  }

  async function watch(topics: string[]): Promise<Received[]> {
    const c = await client(t.url, {}, cleanup);
    await subscribe(c, topics, { qos: 1 });
    return inbox(c).list;
  }

  it('announces each reading (the sensor and the analog pin) with a retained config that fits HA\'s sensor schema', async () => {
    const b = board({ id: 'ha-1', interval: 0.2, discovery: 'homeassistant', pin: 'A0' }, { extend: (p) => { p.analog = () => 0.5; } });
    await b.status((s) => s.ev === 'connected', 'connected');
    const seen = await watch(['homeassistant/#', 'sparrow/ha-1/#']);
    const configs = () => seen.filter((m) => m.topic.startsWith('homeassistant/'));
    const state = (topic: string) => seen.find((m) => m.topic === topic);
    // retained configs come at once on subscribing; then readings on both state topics
    await until(() => configs().length === 2 && !!state('sparrow/ha-1/temperature') && !!state('sparrow/ha-1/analog'), 'configs and readings');
    const byTopic = new Map(configs().map((m) => [m.topic, m]));
    assert.deepEqual([...byTopic.keys()].sort(), ['homeassistant/sensor/ha-1/analog/config', 'homeassistant/sensor/ha-1/temperature/config']);
    const ids = new Set<string>();
    for (const [topic, m] of byTopic) {
      assert.equal(m.packet.retain, true, topic + ' is retained, so HA finds it after its own restart');
      assert.match(topic, DISCOVERY_TOPIC);
      const config = JSON.parse(m.payload.toString('utf8'));
      assert.deepEqual(sensorConfigErrors(config), [], topic);
      ids.add(config.unique_id);
      // the topics it names are the board's own: readings arrive there, and the status says the payload_available
      assert.match(state(config.state_topic)!.payload.toString(), /^-?\d+\.\d\d$/);
      assert.equal(config.availability_topic, 'sparrow/ha-1/status');
      assert.equal(state(config.availability_topic)!.payload.toString(), config.payload_available);
      assert.equal(config.payload_not_available, 'offline', 'the will');
      assert.deepEqual(config.device.identifiers, ['ha-1']);
    }
    assert.equal(ids.size, 2, 'each entity has its own unique_id');
    const temperature = JSON.parse(byTopic.get('homeassistant/sensor/ha-1/temperature/config')!.payload.toString('utf8'));
    assert.equal(temperature.device_class, 'temperature');
    assert.equal(temperature.unit_of_measurement, '\u00b0C');
    assert.equal(state('sparrow/ha-1/analog')!.payload.toString(), '50.00', 'the analog reading is the percent its unit says');
  });

  it('announces nothing without the setting', async () => {
    const seen = await watch(['homeassistant/#', 'sparrow/ha-2/temperature']);
    board({ id: 'ha-2', interval: 0.2 });
    // a reading comes after where the configs would have been published, on the same session
    await until(() => seen.length > 0, 'a reading');
    assert.deepEqual(seen.map((m) => m.topic), ['sparrow/ha-2/temperature']);
  });

  const refused: Array<[string, object, TestBoardOptions, string]> = [
    ['an id HA cannot take as a node id', { id: 'desk.1', discovery: 'homeassistant' }, {}, 'sparrow.json: id: only letters, digits, _ and - with discovery'],
    ['a discovery prefix with a wildcard', { id: 'd1', discovery: 'home/+' }, {}, 'sparrow.json: discovery: must be topic levels (no + #, no empty level)'],
    ['the small image', { id: 'd1', discovery: 'homeassistant' }, { profile: 'small' }, 'sparrow.json: discovery: needs the full image'],
  ];
  for (const [what, config, options, error] of refused) {
    it(`refuses ${what} in the config, before connecting`, async () => {
      const b = board(config, options);
      const line = await b.status((s) => s.ev === 'error', 'the error line');
      assert.equal(line.error, error);
      assert.equal(b.sockets.length, 0);
    });
  }
});
