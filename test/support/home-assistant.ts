// Home Assistant's documented schema for an MQTT sensor's discovery config, as data, for checking what
// the boards announce. From https://www.home-assistant.io/integrations/mqtt/ ("Discovery topic",
// "Discovery payload") and https://www.home-assistant.io/integrations/sensor.mqtt/ ("Configuration
// Variables"), and the sensor device classes and their units (https://www.home-assistant.io/integrations/sensor/).

/** The sensor's options by full name, with their JSON type; `state_topic` is the one required. */
export const SENSOR_OPTIONS: { [key: string]: 'string' | 'number' | 'boolean' | 'object' | 'list' } = {
  availability: 'list', availability_mode: 'string', availability_template: 'string', availability_topic: 'string',
  device: 'object', device_class: 'string', enabled_by_default: 'boolean', encoding: 'string', entity_category: 'string',
  entity_picture: 'string', expire_after: 'number', force_update: 'boolean', icon: 'string', json_attributes_template: 'string',
  json_attributes_topic: 'string', last_reset_value_template: 'string', name: 'string', object_id: 'string',
  default_entity_id: 'string', options: 'list', origin: 'object', payload_available: 'string', payload_not_available: 'string',
  platform: 'string', suggested_display_precision: 'number', qos: 'number', state_class: 'string', state_topic: 'string',
  unique_id: 'string', unit_of_measurement: 'string', value_template: 'string',
};

/** The device map's options ("At least one of identifiers or connections must be present"). */
export const DEVICE_OPTIONS: { [key: string]: 'string' | 'list' | 'object' } = {
  configuration_url: 'string', connections: 'list', hw_version: 'string', identifiers: 'list', manufacturer: 'string',
  model: 'string', model_id: 'string', name: 'string', serial_number: 'string', suggested_area: 'string',
  sw_version: 'string', via_device: 'string',
};

export const STATE_CLASSES = ['measurement', 'measurement_angle', 'total', 'total_increasing'];

/** Units HA accepts for the device classes the boards use. */
export const DEVICE_CLASS_UNITS: { [deviceClass: string]: string[] } = {
  temperature: ['\u00b0C', '\u00b0F', 'K'], humidity: ['%'], pressure: ['Pa', 'hPa', 'kPa', 'bar', 'cbar', 'mbar', 'mmHg', 'inHg', 'psi'],
  voltage: ['V', 'mV', '\u00b5V', 'kV', 'MV'], battery: ['%'], illuminance: ['lx'],
};

/** `<discovery_prefix>/<component>/[<node_id>/]<object_id>/config`, ids from [a-zA-Z0-9_-]. */
export const DISCOVERY_TOPIC = /^(.+)\/(sensor)\/(?:([a-zA-Z0-9_-]+)\/)?([a-zA-Z0-9_-]+)\/config$/;

/** Every way `config` (a parsed discovery payload for a sensor) departs from the schema; [] when none. */
export function sensorConfigErrors(config: { [key: string]: unknown }): string[] {
  const errors: string[] = [];
  const typeOf = (v: unknown) => (Array.isArray(v) ? 'list' : typeof v);
  for (const [key, value] of Object.entries(config)) {
    const want = SENSOR_OPTIONS[key];
    if (!want) errors.push(`${key}: not a sensor option`);
    else if (typeOf(value) !== want) errors.push(`${key}: a ${typeOf(value)}, not a ${want}`);
  }
  if (typeof config.state_topic !== 'string') errors.push('state_topic: required');
  if (config.availability !== undefined && config.availability_topic !== undefined) errors.push('availability and availability_topic together');
  if (config.device !== undefined && config.unique_id === undefined) errors.push('device: only with unique_id');
  if (config.state_class !== undefined && !STATE_CLASSES.includes(config.state_class as string)) errors.push(`state_class: ${config.state_class}`);
  if (config.device_class !== undefined) {
    const units = DEVICE_CLASS_UNITS[config.device_class as string];
    if (!units) errors.push(`device_class: ${config.device_class} not known here`);
    else if (!units.includes(config.unit_of_measurement as string)) errors.push(`unit_of_measurement: ${config.unit_of_measurement} for ${config.device_class}`);
  }
  const device = config.device as { [key: string]: unknown } | undefined;
  if (device) {
    for (const [key, value] of Object.entries(device)) {
      const want = DEVICE_OPTIONS[key];
      if (!want) errors.push(`device.${key}: not a device option`);
      else if (typeOf(value) !== want && !(key === 'identifiers' && typeof value === 'string')) errors.push(`device.${key}: a ${typeOf(value)}, not a ${want}`);
    }
    if (device.identifiers === undefined && device.connections === undefined) errors.push('device: needs identifiers or connections');
  }
  return errors;
}
