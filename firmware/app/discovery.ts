// Home Assistant's MQTT discovery: one retained config per sensor, so HA lists the board's readings
// as entities of one device without any YAML (the way Tasmota and ESPHome announce themselves).
// Topic `<discovery>/sensor/<id>/<name>/config`; availability is the board's retained status topic,
// which its birth and will already keep true. Full image only (__DISCOVERY__): the small one has no room.
import type { Config } from './config';

/** What HA needs to show a reading well, by sensor name: [device_class, unit]. Others get neither. */
const KINDS: { [sensor: string]: string[] } = { temperature: ['temperature', '\u00b0C'], analog: ['', '%'] };

/** The discovery topic and retained payload announcing sensor `name` of the board under `config`. */
export function discoveryMessage(config: Config, name: string, fw: string): string[] {
  const id = config.id, base = config.prefix + '/' + id + '/', kind = KINDS[name] || [];
  const o: { [key: string]: unknown } = {
    name: name, unique_id: id + '_' + name, state_topic: base + name, state_class: 'measurement',
    availability_topic: base + 'status', payload_available: 'online', payload_not_available: 'offline',
    device: { identifiers: [id], name: id, manufacturer: 'Sparrow', model: 'Espruino', sw_version: fw },
  };
  if (kind[0]) o.device_class = kind[0];
  if (kind[1]) o.unit_of_measurement = kind[1];
  return [config.discovery + '/sensor/' + id + '/' + name + '/config', JSON.stringify(o)];
}
