// MQTT URLs: mqtt://host:port, mqtts://host:port, ws://host:port/path, wss://host:port/path.
// A small parser of our own: Espruino has no URL class, and url.parse is Node's.

export interface BrokerUrl {
  protocol: 'mqtt' | 'mqtts' | 'ws' | 'wss';
  host: string;
  port: number;
  path: string;
}

const DEFAULT_PORTS: { [protocol: string]: number } = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 };

/** Parses a broker URL; returns null when it is not one. */
export function parseBrokerUrl(url: string): BrokerUrl | null {
  const m = /^(mqtts?|wss?):\/\/(\[[^\]]+\]|[^:/?#]+)(?::(\d+))?(\/[^?#]*)?$/.exec(url);
  if (!m) return null;
  const port = m[3] ? parseInt(m[3], 10) : DEFAULT_PORTS[m[1]];
  if (!(port > 0 && port < 65536)) return null;
  const host = m[2].charAt(0) === '[' ? m[2].substring(1, m[2].length - 1) : m[2];
  return { protocol: m[1] as BrokerUrl['protocol'], host: host, port: port, path: m[4] || (m[1].charAt(0) === 'w' ? '/mqtt' : '') };
}
