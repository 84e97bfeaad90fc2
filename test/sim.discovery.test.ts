// `sparrow sim --app --discovery homeassistant`: every board of a fleet announces its sensor to Home
// Assistant, so a fleet shows up in HA as devices; the configs fit HA's documented sensor schema.
import { strict as assert } from 'assert';
import { Fleet } from '../host-sim/fleet/fleet';
import { DISCOVERY_TOPIC, sensorConfigErrors } from './support/home-assistant';

describe('sim --app --discovery: a fleet announces itself to Home Assistant', function () {
  this.timeout(60000);

  it('a virtual fleet of 5 leaves one retained, valid sensor config per board, naming its state and status topics', async () => {
    const fleet = new Fleet({ app: true, virtual: true, devices: 5, rate: 0.1, duration: 60000, drain: 60000, seed: 5, discovery: 'homeassistant' });
    await fleet.run();
    const retained = (filter: string) => fleet.broker!.retained.match(filter, fleet.now());
    const configs = retained('homeassistant/sensor/+/+/config');
    assert.equal(configs.length, 5);
    const devices = new Set<string>();
    for (const m of configs) {
      assert.match(m.topic, DISCOVERY_TOPIC);
      const config = JSON.parse(Buffer.from(m.payload).toString('utf8'));
      assert.deepEqual(sensorConfigErrors(config), [], m.topic);
      const id = config.device.identifiers[0];
      devices.add(id);
      assert.equal(m.topic, `homeassistant/sensor/${id}/temperature/config`);
      assert.equal(config.state_topic, `${fleet.o.prefix}/${id}/temperature`);
      const [status] = retained(config.availability_topic);
      assert.equal(Buffer.from(status.payload).toString(), config.payload_available, id + ' is available');
    }
    assert.equal(devices.size, 5, 'one device per board');
  });
});
